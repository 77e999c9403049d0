import { S3BackerError, closestName } from 's3backer';
import type { Latency, LatencyDistribution } from './latency-distribution.js';
import { randomSeed } from './seeded-random.js';

export const CHAOS_OPERATIONS = ['get', 'put', 'delete', 'head', 'list'] as const;
export type ChaosOperation = (typeof CHAOS_OPERATIONS)[number];

/** The answers the chaos store can fail a request with, named as S3 names them. */
export const INJECTED_STATUSES = { 500: 'InternalError', 503: 'SlowDown', 429: 'TooManyRequests', 403: 'AccessDenied' } as const;
export type InjectedStatus = keyof typeof INJECTED_STATUSES;

/**
 * A share of requests (0 to 1) failing with an injected error. A number alone means
 * 500 InternalError; a record gives a share per status, e.g. `{ 503: 0.02, 403: 0.001 }`.
 */
export type ErrorRate = number | Partial<Record<InjectedStatus | `${InjectedStatus}`, number>>;

/** One value for every operation, or a record by operation (`{ put: 0.05 }`); operations left out get none. */
export type PerOperation<T> = T | Partial<Record<ChaosOperation, T>>;

/**
 * What the chaos store does wrong, on purpose. Every random choice comes from `seed`, so the same
 * seed and the same sequence of requests give the same faults. Times are in ms, like the block
 * cache's options.
 */
export interface ChaosOptions {
  /** Plugin name, and the prefix of its stats lines (`chaos_injected_503`). Default "chaos". */
  name?: string;
  /** PRNG seed, an integer 0 to 2^32-1. Default: a random one, logged at mount so the run can be replayed. */
  seed?: number;
  /** Requests failing with an injected HTTP error (no request reaches the store). */
  errorRate?: PerOperation<ErrorRate>;
  /** A delay before each request. */
  latency?: PerOperation<Latency>;
  /**
   * Requests that never get an answer (a frozen server): held for `ms`, or until the store is
   * closed when `ms` is left out, then failed as a retryable timeout. They never reach the store.
   */
  hang?: { rate: PerOperation<number>; ms?: number };
  /** Share of GETs whose body is cut short (the announced size stays): reads must fail, never return wrong data. */
  truncateRate?: number;
  /** Share of GET, HEAD and PUT answers without an ETag (the `etag` field absent: a broken store or server). */
  missingEtagRate?: PerOperation<number>;
  /** Windows in which every request fails as if the server refused connections, ms after the store opened. */
  outages?: ReadonlyArray<{ start: number; duration: number }>;
  /**
   * The C tool's --test-discard: writes are dropped and reads find no object (zeros), with no I/O
   * to the store at all; the store behaves as a volume that is always empty.
   */
  discard?: boolean;
}

export interface ChaosSettings {
  readonly name: string;
  readonly seed: number;
  /** The seed was chosen at random (logged, so the run can be replayed). */
  readonly randomSeed: boolean;
  /** Per operation: statuses and their shares, in a fixed order. */
  readonly errors: Readonly<Record<ChaosOperation, ReadonlyArray<readonly [InjectedStatus, number]>>>;
  readonly latency: Readonly<Record<ChaosOperation, LatencyDistribution | undefined>>;
  readonly hangRate: Readonly<Record<ChaosOperation, number>>;
  /** undefined: until the store is closed. */
  readonly hangMs: number | undefined;
  readonly truncateRate: number;
  readonly missingEtagRate: Readonly<Record<ChaosOperation, number>>;
  readonly outages: ReadonlyArray<{ readonly start: number; readonly duration: number }>;
  readonly discard: boolean;
}

const OPTION_KEYS = ['name', 'seed', 'errorRate', 'latency', 'hang', 'truncateRate', 'missingEtagRate', 'outages', 'discard'] as const;
const STATUS_ORDER: readonly InjectedStatus[] = [500, 503, 429, 403];
/** An answer without an ETag only exists for requests that answer with one. */
const ETAG_OPERATIONS: readonly ChaosOperation[] = ['get', 'head', 'put'];

function invalid(path: string, must: string, value: unknown): S3BackerError {
  return new S3BackerError('S3B_CONFIG_INVALID', `chaos option ${path} must be ${must}, not ${describe(value)}; fix the value`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) {
    try { return JSON.stringify(value); } catch { return String(value); }
  }
  return String(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKey(path: string, key: string, known: readonly string[]): S3BackerError {
  const near = closestName(key, known);
  return new S3BackerError('S3B_CONFIG_UNKNOWN_OPTION',
    `chaos option ${path}${path ? '.' : ''}${key} is not known; ${near ? `did you mean ${path}${path ? '.' : ''}${near}?` : `use one of: ${known.join(', ')}`}`);
}

function rate(path: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) throw invalid(path, 'a number from 0 to 1', value);
  return value;
}

function ms(path: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalid(path, 'a number of ms, at least 0', value);
  return value;
}

/**
 * A per-operation value: the value itself (every operation), or a record whose keys are all
 * operation names. A record mixing both is refused rather than guessed at.
 */
function perOperation<T>(path: string, value: unknown, parse: (path: string, value: unknown) => T, none: T, allowed: readonly ChaosOperation[] = CHAOS_OPERATIONS): Record<ChaosOperation, T> {
  const result = Object.fromEntries(CHAOS_OPERATIONS.map((op) => [op, none])) as Record<ChaosOperation, T>;
  if (value === undefined) return result;
  const keys = isRecord(value) ? Object.keys(value) : [];
  const opKeys = keys.filter((key) => (CHAOS_OPERATIONS as readonly string[]).includes(key));
  if (opKeys.length === 0 || !isRecord(value)) {
    const parsed = parse(path, value);
    for (const op of allowed) result[op] = parsed;
    return result;
  }
  if (opKeys.length !== keys.length) {
    const stray = keys.find((key) => !opKeys.includes(key))!;
    throw invalid(path, `either one value for every operation or a record by operation (${allowed.join(', ')}), not both (it has "${opKeys[0]}" and "${stray}")`, value);
  }
  for (const key of opKeys) {
    const op = key as ChaosOperation;
    if (!allowed.includes(op)) throw invalid(`${path}.${op}`, `left out: only ${allowed.join(', ')} can have it`, value[op]);
    result[op] = parse(`${path}.${op}`, value[op]);
  }
  return result;
}

function errorRate(path: string, value: unknown): ReadonlyArray<readonly [InjectedStatus, number]> {
  if (typeof value === 'number') return rate(path, value) > 0 ? [[500, value]] : [];
  if (!isRecord(value)) throw invalid(path, 'a number from 0 to 1 or a record of shares by status (500, 503, 429, 403)', value);
  const shares: Array<readonly [InjectedStatus, number]> = [];
  for (const key of Object.keys(value)) {
    if (!STATUS_ORDER.some((status) => String(status) === key)) throw unknownKey(path, key, STATUS_ORDER.map(String));
  }
  let total = 0;
  for (const status of STATUS_ORDER) {
    if (value[status] === undefined) continue;
    const share = rate(`${path}.${status}`, value[status]);
    total += share;
    if (share > 0) shares.push([status, share]);
  }
  if (total > 1) throw invalid(path, 'shares that add up to at most 1', value);
  return shares;
}

function latency(path: string, value: unknown): LatencyDistribution | undefined {
  if (typeof value === 'number') return ms(path, value) > 0 ? { kind: 'fixed', ms: value } : undefined;
  const shape = 'a number of ms, { min, max } (uniform) or { mean, max? } (exponential)';
  if (!isRecord(value)) throw invalid(path, shape, value);
  const keys = Object.keys(value);
  if ('mean' in value) {
    const stray = keys.find((key) => key !== 'mean' && key !== 'max');
    if (stray) throw unknownKey(path, stray, ['mean', 'max']);
    const mean = ms(`${path}.mean`, value.mean);
    const max = value.max === undefined ? Infinity : ms(`${path}.max`, value.max);
    if (mean === 0) return undefined;
    return { kind: 'exponential', mean, max };
  }
  if ('min' in value || 'max' in value) {
    const stray = keys.find((key) => key !== 'min' && key !== 'max');
    if (stray) throw unknownKey(path, stray, ['min', 'max']);
    const min = ms(`${path}.min`, value.min);
    const max = ms(`${path}.max`, value.max);
    if (max < min) throw invalid(`${path}.max`, `at least min (${min})`, max);
    if (max === 0) return undefined;
    return { kind: 'uniform', min, max };
  }
  throw invalid(path, shape, value);
}

/** Validate a chaos plugin's options (a bad one fails at config load, naming the key). */
export function resolveChaosOptions(options: ChaosOptions = {}): ChaosSettings {
  const raw: unknown = options;
  if (!isRecord(raw)) throw invalid('(the options)', 'an object', raw);
  for (const key of Object.keys(raw)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) throw unknownKey('', key, OPTION_KEYS);
  }
  const name = options.name ?? 'chaos';
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) throw invalid('name', 'a name of letters, digits, - and _, starting with a letter', name);
  const seedGiven = options.seed !== undefined;
  const seed: number = options.seed ?? randomSeed();
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw invalid('seed', 'an integer from 0 to 4294967295', seed);

  const hang: unknown = options.hang;
  let hangRate = perOperation('hang.rate', undefined, rate, 0);
  let hangMs: number | undefined;
  if (hang !== undefined) {
    if (!isRecord(hang)) throw invalid('hang', 'an object { rate, ms? }', hang);
    const stray = Object.keys(hang).find((key) => key !== 'rate' && key !== 'ms');
    if (stray) throw unknownKey('hang', stray, ['rate', 'ms']);
    if (hang.rate === undefined) throw invalid('hang.rate', 'a number from 0 to 1 (or one per operation)', undefined);
    hangRate = perOperation('hang.rate', hang.rate, rate, 0);
    if (hang.ms !== undefined) {
      hangMs = ms('hang.ms', hang.ms);
      if (hangMs === 0) throw invalid('hang.ms', 'a number of ms above 0 (leave it out to hang until the store is closed)', 0);
    }
  }

  const outages: unknown = options.outages ?? [];
  if (!Array.isArray(outages)) throw invalid('outages', 'a list of { start, duration } in ms', outages);
  const windows = outages.map((window: unknown, i) => {
    if (!isRecord(window)) throw invalid(`outages[${i}]`, 'an object { start, duration } in ms', window);
    const stray = Object.keys(window).find((key) => key !== 'start' && key !== 'duration');
    if (stray) throw unknownKey(`outages[${i}]`, stray, ['start', 'duration']);
    const start = ms(`outages[${i}].start`, window.start);
    const duration = ms(`outages[${i}].duration`, window.duration);
    if (duration === 0) throw invalid(`outages[${i}].duration`, 'a number of ms above 0', 0);
    return Object.freeze({ start, duration });
  });

  const truncateRate = options.truncateRate === undefined ? 0 : rate('truncateRate', options.truncateRate);
  const discard = options.discard ?? false;
  if (typeof discard !== 'boolean') throw invalid('discard', 'true or false', discard);

  return Object.freeze({
    name, seed, randomSeed: !seedGiven,
    errors: Object.freeze(perOperation('errorRate', options.errorRate, errorRate, [])),
    latency: Object.freeze(perOperation('latency', options.latency, latency, undefined)),
    hangRate: Object.freeze(hangRate),
    hangMs,
    truncateRate,
    missingEtagRate: Object.freeze(perOperation('missingEtagRate', options.missingEtagRate, rate, 0, ETAG_OPERATIONS)),
    outages: Object.freeze(windows),
    discard,
  });
}
