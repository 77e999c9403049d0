// A codec configuration through the engine's object pipeline: an Engine on the memory store with
// the zero map and the codec plugins and no block cache, mounted; W blocks written with
// `engine.objects.write` by `inFlight` concurrent writers (the cache's --blockCacheThreads is what
// drives the pipeline in a mount), then read back with `engine.objects.read`, as often as needed
// to fill the minimum time. With a profile directory, each step runs under V8's CPU profiler
// (in-process, node:inspector) and the profile is summarised.
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { StoredObject } from '../../src/engine/object-store.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { testConfig } from '../../test/helpers/test-config.js';
import { summariseCpuProfile, type ProfileSummary } from './cpu-profile-summary.js';
import { blockOf, type CodecData } from './codec-data.js';
import { measure, inFlight, type Measured } from './codec-measure.js';

export interface PipelineRun {
  write: Measured;
  read: Measured;
  /** Stored bytes / plaintext bytes over the W block objects. */
  storedRatio: number;
  /** The Content-Encoding the objects were stored with. */
  contentEncoding: string;
  profiles?: { write: ProfileSummary; read: ProfileSummary };
}

export interface PipelineSettings {
  data: CodecData;
  blockSize: number;
  blocks: number;
  inFlight: number;
  minSeconds: number;
  /** Profile each step into this directory (file names start with `label`). */
  profileDir?: string | undefined;
  label: string;
}

async function profiled<T>(dir: string | undefined, file: string, work: () => Promise<T>): Promise<{ value: T; profile?: ProfileSummary }> {
  if (!dir) return { value: await work() };
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const value = await work();
    const { profile } = await session.post('Profiler.stop');
    const path = join(dir, `${file}.cpuprofile`);
    await writeFile(path, JSON.stringify(profile));
    return { value, profile: await summariseCpuProfile(path) };
  } finally {
    session.disconnect();
  }
}

export async function runPipeline(plugins: S3BackerPlugin[], settings: PipelineSettings): Promise<PipelineRun> {
  const { data, blockSize, blocks, minSeconds } = settings;
  const volume = new Map<string, StoredObject>();
  const engine = Engine.create(testConfig({ store: 'memory', size: blocks * blockSize, blockSize }), [memoryPlugin({ volume }), zeroMapPlugin(), ...plugins]);
  await engine.mount();
  try {
    const { objects } = engine;
    // Warm up (JIT, libuv's pool threads, the codecs' lazy loading) on a few blocks.
    await inFlight(settings.inFlight, Math.min(blocks, 2 * settings.inFlight), async (i) => objects.read(i).then(() => objects.write(i, blockOf(data, blockSize, i))));
    const bytes = blocks * blockSize;
    const write = await profiled(settings.profileDir, `${settings.label}-write`, () =>
      measure(bytes, minSeconds, () => inFlight(settings.inFlight, blocks, (i) => objects.write(i, blockOf(data, blockSize, i)))));
    let stored = 0;
    let contentEncoding = '';
    for (let i = 0; i < blocks; i++) {
      const object = volume.get(engine.geometry.key(i));
      if (!object) throw new Error(`pipeline ${settings.label}: block ${i} was not stored`);
      stored += object.body.length;
      contentEncoding = object.contentEncoding ?? '';
    }
    const read = await profiled(settings.profileDir, `${settings.label}-read`, () =>
      measure(bytes, minSeconds, () => inFlight(settings.inFlight, blocks, (i) => objects.read(i))));
    for (const i of [0, blocks >> 1, blocks - 1]) {
      if (!(await objects.read(i)).equals(blockOf(data, blockSize, i))) throw new Error(`pipeline ${settings.label}: block ${i} reads back different bytes`);
    }
    return {
      write: write.value, read: read.value, storedRatio: stored / bytes, contentEncoding,
      ...(write.profile && read.profile ? { profiles: { write: write.profile, read: read.profile } } : {}),
    };
  } finally {
    await engine.shutdown();
  }
}
