import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPTION_KEYS, optionSpec } from '../../src/config/options.js';
import { parseArgv } from '../../src/config/parse-argv.js';
import { resolveConfig } from '../../src/config/merge-config.js';
import { sample } from '../helpers/option-sample.js';

/**
 * No option is parsed and then ignored: every option in the table is read by code that acts on it
 * (an engine part, a plugin, a front end or a command), not only by the config layer that parses,
 * checks and documents it. Behaviour tests elsewhere show what each one does; this walk catches
 * the option nobody reads.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The config layer parses, validates and documents options; reading one there does not act on it. */
const CONFIG_ONLY = ['src/config/options.ts', 'src/config/parse-argv.ts', 'src/config/merge-config.ts', 'src/config/help-text.ts',
  'src/config/config-docs.ts', 'src/config/define-config.ts', 'src/config/load-config-file.ts', 'src/config/resolved-config.ts', 'src/config/closest-name.ts'];
/** Options whose reader is the command-line front door itself. */
const READ_BY_ARGV = new Set(['configFile', 'erase', 'resetMountedFlag', 'help', 'version', 'config', 'test']);

/**
 * Flags kept so the C tool's command lines and fstab lines still work, where the thing they tune
 * does not exist here; their doc says so (`--help`, docs/config.md), so they are not silently ignored.
 */
const ACCEPTED_FOR_COMPATIBILITY = new Set(['http11', 'blockCacheFileAdvise', 'authVersion']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

test('every option in the table is read by code that acts on it', () => {
  const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'plugins'))]
    .filter((path) => !CONFIG_ONLY.some((skip) => relative(ROOT, path).startsWith(skip) || relative(ROOT, path).startsWith(skip.replace(/\.ts$/, '/'))));
  // Hook names (`hooks.listBlocks`) are not option reads.
  const text = files.map((path) => readFileSync(path, 'utf8')).join('\n').replace(/hooks\.\w+/g, '');
  const unread = OPTION_KEYS.filter((key) => {
    if (READ_BY_ARGV.has(key)) return false;
    if (ACCEPTED_FOR_COMPATIBILITY.has(key)) {
      assert.match(optionSpec(key).doc, /accepted|only `aws4`/i, `--${optionSpec(key).flag}: its doc must say it is accepted without effect, and why`);
      return false;
    }
    // `anything.key` (the ResolvedConfig or options copied from it), or `{ …, key, … } = config`.
    return !new RegExp(`\\.${key}\\b|\\{[^}]*\\b${key}\\b[^}]*\\}\\s*=\\s*config\\b`).test(text);
  });
  assert.deepEqual(unread, [], `options no code acts on: ${unread.map((key) => '--' + optionSpec(key).flag).join(', ')}`);
});

/** Flags some options need beside them to pass the C tool's cross-checks (validate_config). */
const COMPANIONS: Partial<Record<string, string[]>> = {
  md5CacheTime: ['--md5CacheSize=10'], minWriteDelay: ['--md5CacheSize=10'], sseKeyId: ['--sse=aws:kms'], sse: ['--sse-key-id=k'],
  accessEC2IAMv2: ['--accessEC2IAM=role'], listBlocksThreads: ['--listBlocks'], statsFileMirrorInterval: ['--statsFileMirror=/tmp/m'],
  password: ['--encrypt'], passwordFile: ['--encrypt'], keyLength: ['--encrypt'], compressLevel: ['--compress=zstd'],
  cacert: ['--baseURL=https://127.0.0.1:1/'], insecure: ['--baseURL=https://127.0.0.1:1/'],
  blockCacheNoVerify: ['--blockCacheFile=/tmp/c'], blockCacheRecoverDirtyBlocks: ['--blockCacheFile=/tmp/c'],
  blockCacheSync: ['--blockCacheWriteDelay=0'], maxRetryPause: ['--initialRetryPause=0'],
  nbdTlsCert: ['--nbd-listen=127.0.0.1:10809', '--nbd-tls-key=/k.pem'], nbdTlsKey: ['--nbd-listen=127.0.0.1:10809', '--nbd-tls-cert=/c.pem'],
};
/** Options of an NBD export, which has no mount point. */
const NBD_ONLY = new Set(['nbdTlsCert', 'nbdTlsKey']);

test('every config-file option given as a flag reaches the resolved configuration with its value', { timeout: 10_000 }, () => {
  for (const key of OPTION_KEYS) {
    const spec = optionSpec(key);
    if (spec.cliOnly) continue;
    const { text, value } = sample(spec);
    const flag = text === undefined ? `--${spec.flag}` : `--${spec.flag}=${text}`;
    const argv = [...(COMPANIONS[key] ?? []), flag, key === 'test' ? '/dir' : 'bucket', ...(NBD_ONLY.has(key) ? [] : ['/mnt'])];
    const { config } = resolveConfig({ cli: parseArgv(argv), file: null, cwd: '/' });
    assert.deepEqual((config as unknown as Record<string, unknown>)[key], value, argv.join(' '));
  }
});
