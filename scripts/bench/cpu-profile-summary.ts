// A V8 .cpuprofile (node --cpu-prof) reduced to what decides a diagnosis, over a time window (one
// measured step; the profile's clock is the monotonic clock of process.hrtime): how busy the JS
// thread was, self time per code area (AWS SDK, our engine, FUSE binding, node internals, GC), the
// same time charged to its "owner" (the nearest caller that is s3backer or a dependency, so node's
// Buffer and socket code counts for whoever called it), and the top self-time functions with
// their owning callers. Covers the JS main thread only (GC helper threads are not sampled).
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Profiled wall time, ms. */
  totalMs: number;
  /** Not idle: the JS thread was running something (including GC), ms. */
  busyMs: number;
  areas: Array<{ area: string; ms: number; share: number }>;
  /** Self time charged to the nearest caller in s3backer or a dependency. */
  owners: Array<{ area: string; ms: number; share: number }>;
  top: Array<{ function: string; where: string; area: string; ms: number; share: number; via: Array<{ caller: string; ms: number }> }>;
}

/** Areas that are not "somebody's code": their time is charged to the nearest caller that is. */
const UNOWNED = new Set(['node internals', 'native', 'V8/native (program)', 'other', 'GC', 'idle']);

/** Which part of the program a script URL belongs to. */
function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return 'native';
  }
  if (url.includes('/node_modules/@aws-sdk/')) return 'AWS SDK (@aws-sdk)';
  if (url.includes('/node_modules/@smithy/')) return 'AWS SDK (@smithy)';
  if (url.includes('/node_modules/')) return 'other dependencies';
  if (url.includes('/vendor/fuse-native/') || url.includes('/frontends/fuse/')) return 'FUSE binding + frontend';
  if (url.includes('/plugins/block-cache/')) return 'block cache';
  if (url.includes('/plugins/s3/')) return 's3 store plugin';
  if (url.includes('/plugins/')) return 'other plugins';
  if (url.includes('/src/engine/')) return 'engine';
  if (url.includes('/dist/')) return 's3backer (other)';
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}

function shortWhere(url: string, line: number): string {
  if (!url) return '';
  const trimmed = url.replace(/^file:\/\/.*?\/(node_modules|dist|vendor)\//, '$1/').replace(/^node:internal\//, 'node:');
  return `${trimmed}:${line + 1}`;
}

/** A window of the monotonic clock in µs (process.hrtime.bigint() / 1000n), as the profile's timestamps are. */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

export async function summariseCpuProfile(file: string, window?: ProfileWindow, topN = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfMs = new Map<number, number>();
  // Sample i is taken at startTime + timeDeltas[0..i] and lasts until sample i+1.
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const us = profile.timeDeltas[i + 1] ?? 0;
    selfMs.set(profile.samples[i]!, (selfMs.get(profile.samples[i]!) ?? 0) + us / 1000);
  }
  const ownerOf = (id: number): { area: string; caller: string } | undefined => {
    for (let current: number | undefined = parent.get(id); current !== undefined; current = parent.get(current)) {
      const { functionName, url, lineNumber } = byId.get(current)!.callFrame;
      const area = areaOf(url, functionName);
      if (!UNOWNED.has(area)) return { area, caller: `${functionName || '(anonymous)'} ${shortWhere(url, lineNumber)}` };
    }
    return undefined;
  };
  const areas = new Map<string, number>();
  const owners = new Map<string, number>();
  const functions = new Map<string, { function: string; where: string; area: string; ms: number; via: Map<string, number> }>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const area = areaOf(url, functionName);
    totalMs += ms;
    if (area === 'idle') {
      idleMs += ms;
      continue;
    }
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const owner = UNOWNED.has(area) ? ownerOf(id) : { area, caller: '' };
    const ownerArea = owner?.area ?? (area === 'GC' ? 'GC' : `${area} (event loop, microtasks)`);
    owners.set(ownerArea, (owners.get(ownerArea) ?? 0) + ms);
    const name = functionName || '(anonymous)';
    const where = shortWhere(url, lineNumber);
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { function: name, where, area, ms: 0, via: new Map<string, number>() };
    entry.ms += ms;
    if (owner?.caller) entry.via.set(owner.caller, (entry.via.get(owner.caller) ?? 0) + ms);
    functions.set(key, entry);
  }
  const busyMs = totalMs - idleMs;
  const share = (ms: number) => (busyMs > 0 ? ms / busyMs : 0);
  return {
    file,
    totalMs,
    busyMs,
    areas: [...areas].map(([area, ms]) => ({ area, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
    owners: [...owners].map(([area, ms]) => ({ area, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
    top: [...functions.values()].sort((a, b) => b.ms - a.ms).slice(0, topN).map((entry) => ({
      ...entry, share: share(entry.ms),
      via: [...entry.via].map(([caller, ms]) => ({ caller, ms })).sort((a, b) => b.ms - a.ms).slice(0, 3),
    })),
  };
}

export function formatProfileSummary(label: string, summary: ProfileSummary): string {
  const lines = [
    `profile ${label}: ${(summary.totalMs / 1000).toFixed(1)} s profiled, JS thread busy ${(summary.busyMs / 1000).toFixed(1)} s (${((summary.busyMs / summary.totalMs) * 100).toFixed(0)}%) — ${summary.file}`,
    '  self time by area (share of busy): ' + summary.areas.map((a) => `${a.area} ${(a.share * 100).toFixed(0)}%`).join(', '),
    '  charged to the owning caller:       ' + summary.owners.map((a) => `${a.area} ${(a.share * 100).toFixed(0)}%`).join(', '),
    '  top self-time functions (← owning callers):',
    ...summary.top.map((t) => `    ${(t.share * 100).toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(6)} ms  ${t.function}  ${t.where}  [${t.area}]` +
      (t.via.length && t.via[0]!.caller !== `${t.function} ${t.where}` ? `  ← ${t.via.map((v) => `${v.caller} ${v.ms.toFixed(0)} ms`).join('; ')}` : '')),
  ];
  return lines.join('\n');
}
