import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../src/config/resolved-config.js';
import type { OptionValues } from '../../src/config/options.js';
import { createEngine } from '../../src/cli/run-engine.js';
import type { BlockDevice } from '../../src/engine/block-device.js';
import type { Engine } from '../../src/engine/engine.js';
import { createLogger, type LogLevel } from '../../src/engine/logger.js';
import type { ObjectStore } from '../../src/engine/object-store.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { NbdFrontend, type NbdFrontendOptions } from '../../src/frontends/nbd/nbd-frontend.js';
import { nbdUri } from '../../src/frontends/nbd/nbd-uri.js';
import { testConfig } from './test-config.js';

export interface ServedVolumeOptions {
  /** Volume and engine options (size, blockSize, store, blockCacheWriteDelay, ...); default a 64 MiB memory volume of 64 KiB blocks. */
  config?: Partial<OptionValues> & { bucket?: string };
  /** Serve this store instead (a test's inspectable or slow store): it is the store of every mount. */
  store?: () => ObjectStore;
  /** 'unix' (default): a socket in a fresh temp directory; 'tcp': 127.0.0.1 on a free port. */
  transport?: 'unix' | 'tcp';
  /** Front-end options other than listen and log. */
  frontend?: Partial<Omit<NbdFrontendOptions, 'listen' | 'log'>>;
}

export interface ServedVolume {
  engine: Engine;
  device: BlockDevice;
  frontend: NbdFrontend;
  /** The Unix socket path, or undefined over TCP. */
  socketPath: string | undefined;
  /** How a tool reaches the export: an NBD URI (plain, even with TLS configured). */
  uri: string;
  /** `{ path }` or `{ host, port }`, for raw sockets. */
  connectTo: { path: string } | { host: string; port: number };
  /** Every log line of the engine and the front end, `LEVEL [source] message`. */
  logLines: string[];
  /** Stop the front end, wait for `closed`, shut the engine down, remove the temp directory. Idempotent. */
  stop(): Promise<void>;
}

/** The name the test exports use. */
export const TEST_EXPORT_NAME = 'test-volume';

/**
 * An engine mounted in this process and served by an NbdFrontend: no root, no FUSE. Tests talk to
 * it with the real user-space clients or a raw socket.
 */
export async function serveVolume(options: ServedVolumeOptions = {}): Promise<ServedVolume> {
  const dir = await mkdtemp(join(tmpdir(), 's3b-nbd-'));
  const logLines: string[] = [];
  const sink = (level: LogLevel, source: string, message: string) => {
    logLines.push(`${level.toUpperCase()} [${source}] ${message}`);
    if (process.env.NBD_TEST_LOG) process.stderr.write(`${level} [${source}] ${message}\n`);
  };
  const provide: S3BackerPlugin[] = options.store ? [{
    name: 'test-store',
    apply: (e) => e.hooks.createStore.for('test-store').tapPromise('test-store', async () => options.store!()),
  }] : [];
  const config: ResolvedConfig = testConfig({ store: 'memory', size: 64 << 20, blockSize: 64 << 10, ...(options.store ? { store: 'test-store' } : {}), ...options.config });
  const engine = createEngine(config, provide, sink);
  let device: BlockDevice;
  try {
    device = await engine.mount();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const socketPath = options.transport === 'tcp' ? undefined : join(dir, 'nbd.sock');
  const frontend = new NbdFrontend({
    exportName: TEST_EXPORT_NAME,
    ...options.frontend,
    listen: socketPath ? `unix:${socketPath}` : '127.0.0.1:0',
    log: createLogger(sink, 'nbd'),
  });
  try {
    await frontend.start(device);
  } catch (error) {
    await engine.shutdown().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const address = frontend.address;
  let stopped: Promise<void> | undefined;
  return {
    engine, device, frontend, socketPath, logLines,
    uri: nbdUri(address, TEST_EXPORT_NAME, false),
    connectTo: address.kind === 'unix' ? { path: address.path } : { host: address.host, port: address.port },
    stop: () => (stopped ??= (async () => {
      try {
        await frontend.requestStop('test finished');
        await frontend.closed;
        await engine.shutdown();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })()),
  };
}
