import { checkOptionValue, type OptionSpec } from '../../src/config/options.js';

/** A valid text value for a flag of this type (the first sample its validate() accepts). */
export function sample(spec: OptionSpec): { text: string | undefined; value: unknown } {
  switch (spec.type) {
    case 'boolean': return { text: undefined, value: true };
    case 'size': return { text: '64k', value: 65536 };
    case 'octal': return { text: '0644', value: 0o644 };
    case 'integer': return { text: String(spec.min ?? 0), value: spec.min ?? 0 };
    case 'enum': return { text: spec.values.at(-1)!, value: spec.values.at(-1) };
    case 'string': {
      const text = ['value', 'http://127.0.0.1:4568/', 'zstd', 'lowdelay'].find((candidate) => checkOptionValue(spec, candidate) === undefined)!;
      return { text, value: text };
    }
  }
}

