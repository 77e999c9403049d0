import { HookMap, type Tap } from 'tapable';
import { createEngineHooks, type EngineHooks, type MountContext, type PluginHooks, type EvictEvent, type EncodedObject, type BlockContext } from './hooks.js';
import type { S3BackerPlugin, EnginePluginApi } from './plugin.js';
import type { ResolvedConfig } from '../config/resolved-config.js';
import type { ObjectStore } from './object-store.js';
import { mountTokenKey, type BlockGeometry } from './block-geometry.js';
import { ObjectPipeline } from './object-pipeline.js';
import { BlockDevice } from './block-device.js';
import { BlockTier } from './block-tier.js';
import { detectGeometry } from './detect-geometry.js';
import { MountLease } from './mount-lease.js';
import { StatsRegistry, type StatsProvider } from './stats-registry.js';
import { createLogger, type LogSink, type Logger } from './logger.js';
import { S3BackerError, wrapPluginError } from '../errors/s3backer-error.js';

type EngineState = 'configuring' | 'sealed' | 'mounting' | 'mounted' | 'shutting-down' | 'shut-down';

interface Mounted {
  store: ObjectStore;
  geometry: BlockGeometry;
  objects: ObjectPipeline;
  tier: BlockTier;
  device: BlockDevice;
  lease: MountLease;
  context: MountContext;
}

export interface EngineOptions {
  /** Where log lines go; defaults to nowhere. */
  log?: LogSink;
  /**
   * Values of the options plugins declare (`S3BackerPlugin.options`), by plugin name, then option
   * key: already parsed and checked (the command line does that, src/config). A plugin's declared
   * defaults fill in what is missing, so a program embedding the engine may leave this out.
   */
  pluginOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * The core: owns the hook table and the lifecycle create → apply plugins → seal → mount →
 * shutdown. It names no vendor: stores, codecs and frontends are plugins and callers.
 */
export class Engine {
  readonly hooks: EngineHooks = createEngineHooks();
  readonly stats = new StatsRegistry();
  readonly log: Logger;
  private readonly logSink: LogSink;
  private readonly pluginOptions: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  private state: EngineState = 'configuring';
  private readonly pluginNames = new Set<string>();
  private mounted: Mounted | undefined;
  /** What plugins get as `hooks`: the same hooks, except that `decode.for()` keys are case-insensitive. */
  private readonly pluginHooks: PluginHooks;

  constructor(readonly config: ResolvedConfig, options: EngineOptions = {}) {
    this.logSink = options.log ?? (() => {});
    this.pluginOptions = options.pluginOptions ?? {};
    this.log = createLogger(this.logSink, 'engine');
    for (const hook of Object.values(this.hooks)) {
      if (hook instanceof HookMap) (hook as unknown as HookMap<Guardable>).intercept({ factory: (_key, inner) => this.guard(inner) });
      else this.guard(hook);
    }
    this.guardEncodeContract();
    const decode = this.hooks.decode;
    // Tokens are matched case-insensitively (the C tool writes "encrypt-AES-128-CBC" and compares
    // without case): a codec that taps "MYCODEC" must read back what it wrote as "MYCODEC".
    this.pluginHooks = Object.freeze({ ...this.hooks, decode: Object.freeze({ for: (token: string) => decode.for(token.toLowerCase()) }) }) as unknown as PluginHooks;
  }

  /** An engine with `plugins` applied in order (config-file plugins first), then sealed. */
  static create(config: ResolvedConfig, plugins: readonly S3BackerPlugin[], options: EngineOptions = {}): Engine {
    const engine = new Engine(config, options);
    for (const plugin of plugins) engine.use(plugin);
    engine.seal();
    return engine;
  }

  use(plugin: S3BackerPlugin): this {
    if (this.state !== 'configuring') throw this.sealedError(plugin.name);
    if (this.pluginNames.has(plugin.name)) {
      throw new S3BackerError('S3B_CONFIG_DUPLICATE_PLUGIN', `two plugins are named "${plugin.name}"; remove one of them from the configuration`, { plugin: plugin.name });
    }
    this.pluginNames.add(plugin.name);
    try {
      plugin.apply(this.pluginApi(this.optionsOf(plugin)));
    } catch (error) {
      // A third party's apply() that throws must say whose it is, not end the mount with a bare stack trace.
      throw wrapPluginError(error, plugin.name, 'apply');
    }
    return this;
  }

  seal(): this {
    if (this.state !== 'configuring') return this;
    this.checkOneDecoderPerToken();
    this.state = 'sealed';
    return this;
  }

  /** Two decoders for one token would run as a silent chain: a configuration error instead. */
  private checkOneDecoderPerToken(): void {
    for (const [token, taps] of tapsByKey(this.hooks.decode)) {
      if (taps.length > 1) {
        throw new S3BackerError('S3B_CODEC_CONTRACT',
          `plugins ${taps.map((tap) => `"${tap.name}"`).join(' and ')} both decode Content-Encoding "${token}"; configure only one of them`,
          { token });
      }
    }
    for (const [name, taps] of tapsByKey(this.hooks.createStore)) {
      if (taps.length > 1) {
        throw new S3BackerError('S3B_CONFIG_DUPLICATE_PLUGIN',
          `plugins ${taps.map((tap) => `"${tap.name}"`).join(' and ')} both provide a store named "${name}"; configure only one of them`);
      }
    }
  }

  /** Names of the stores plugins registered, sorted. */
  storeNames(): string[] {
    return [...tapsByKey(this.hooks.createStore)].filter(([, taps]) => taps.length > 0).map(([name]) => name).sort();
  }

  /**
   * Each encode tap must append a token when it changes the body, and keep the tokens before it:
   * an object whose body no token explains would be stored and then read back as garbage.
   */
  private guardEncodeContract(): void {
    this.hooks.encode.intercept({
      register: (tap) => {
        const check = (before: EncodedObject, after: EncodedObject, block: BlockContext): EncodedObject => {
          const kept = after.encodings.length >= before.encodings.length && before.encodings.every((token, i) => after.encodings[i] === token);
          const added = after.encodings.length > before.encodings.length;
          if (kept && (added || after.body === before.body || after.body.equals(before.body))) return after;
          throw new S3BackerError('S3B_CODEC_CONTRACT',
            kept
              ? `encode tap "${tap.name}" changed the block's bytes without appending a Content-Encoding token, so they could never be decoded; the codec must append its token`
              : `encode tap "${tap.name}" removed or reordered the Content-Encoding tokens [${before.encodings.join(', ')}] (now [${after.encodings.join(', ')}]); a codec may only append its own`,
            { block: block.block, plugin: tap.name, hook: 'encode' });
        };
        const fn = tap.fn as (object: EncodedObject, block: BlockContext, callback?: (error: unknown, result?: EncodedObject) => void) => unknown;
        if (tap.type === 'promise') {
          tap.fn = async (before: EncodedObject, block: BlockContext): Promise<EncodedObject> => check(before, await (fn(before, block) as Promise<EncodedObject>), block);
        } else if (tap.type === 'sync') {
          tap.fn = (before: EncodedObject, block: BlockContext) => check(before, fn(before, block) as EncodedObject, block);
        } else {
          tap.fn = (before: EncodedObject, block: BlockContext, callback: (error: unknown, result?: EncodedObject) => void) =>
            fn(before, block, (error, after) => {
              if (error) return callback(error);
              let checked: EncodedObject;
              try { checked = check(before, after!, block); } catch (contractError) { return callback(contractError); }
              callback(null, checked);
            });
        }
        return tap;
      },
    });
  }

  get geometry(): BlockGeometry {
    return this.requireMounted().geometry;
  }

  get objects(): ObjectPipeline {
    return this.requireMounted().objects;
  }

  get store(): ObjectStore {
    return this.requireMounted().store;
  }

  get device(): BlockDevice {
    return this.requireMounted().device;
  }

  /**
   * Open the store, detect the geometry, take the mounted flag, run `mount` then `ready`.
   * Returns the block device the frontends serve. On failure everything taken is released.
   */
  async mount(): Promise<BlockDevice> {
    this.seal();
    if (this.state !== 'sealed') throw new S3BackerError('S3B_ENGINE_STATE', `mount() called while the engine is ${this.state}; create a new engine for each mount`);
    this.state = 'mounting';
    const store = await this.createStore().catch((error) => {
      this.state = 'shut-down';
      throw error;
    });
    let lease: MountLease | undefined;
    try {
      this.log.debug(`opening ${store.kind} store ${store.description}`);
      await store.open();
      const { config } = this;
      // The flag first: "mounted elsewhere" is the more useful message when both would fail.
      lease = await MountLease.acquire(store, {
        key: mountTokenKey(config.prefix), description: store.description, force: config.force, readOnly: config.readOnly,
        shared: config.sharedDiskMode, log: this.log,
        reclaim: async (token) => this.hooks.reclaimMount.isUsed() && (await this.hooks.reclaimMount.promise({ store, token })) === true,
      });
      const geometry = await detectGeometry(store, {
        size: config.size, blockSize: config.blockSize, prefix: config.prefix, blockHashPrefix: config.blockHashPrefix,
        noAutoDetect: config.noAutoDetect, force: config.force,
      }, this.log);
      const objects = new ObjectPipeline(store, this.hooks, geometry, { defaultContentEncoding: config.defaultContentEncoding });
      const tier = new BlockTier(this.hooks, objects);
      const device = new BlockDevice(geometry, tier, config.readOnly, { serial: config.singleThreaded });
      const context: MountContext = { store, geometry, config, mountToken: lease.token };
      this.mounted = { store, geometry, objects, tier, device, lease, context };
      this.log.debug(`volume: ${geometry.numBlocks} blocks of ${geometry.blockSize} bytes; running mount hooks`);
      await this.hooks.mount.promise(context);
      await this.hooks.ready.promise(context);
      this.state = 'mounted';
      return device;
    } catch (error) {
      this.mounted = undefined;
      this.state = 'shut-down';
      await lease?.release().catch((releaseError) => this.log.warn(`could not clear the mount token: ${String(releaseError)}`));
      await store.close().catch(() => {});
      throw error;
    }
  }

  /**
   * Drain in-flight requests, flush (again and again while it fails; draining and flushing take
   * at most `--shutdownTimeout` seconds, after which the store's requests in flight are aborted),
   * run `shutdown` even when the flush failed (so a cache can stop and keep its dirty blocks),
   * clear the mounted flag only when everything was stored, and close the store last. Throws
   * S3B_FLUSH_FAILED (or a `shutdown` tap's more precise error) when data could not be stored:
   * the flag then stays set, so the next mount knows.
   */
  async shutdown(): Promise<void> {
    // Nothing is mounted, or another call is already shutting down: nothing to do.
    if (this.state !== 'mounted') return;
    this.state = 'shutting-down';
    const { device, lease, store } = this.mounted!;
    const timeoutMs = this.config.shutdownTimeout * 1000;
    const deadline = Date.now() + timeoutMs;
    // A store that stops answering (a hung server) must not hold the unmount past --shutdownTimeout:
    // its requests in flight are then abandoned, so what they carried stays dirty and the flag set.
    const abandon = setTimeout(() => {
      this.log.warn(`unmount: the ${store.kind} store did not answer within --shutdownTimeout=${this.config.shutdownTimeout} s; abandoning its requests in flight`);
      store.abort?.(new S3BackerError('S3B_STORE_ABORTED',
        `abandoned at unmount: ${store.description} did not answer within --shutdownTimeout=${this.config.shutdownTimeout} s; check that the store is reachable, then mount again`));
    }, timeoutMs);
    let failure: unknown;
    try {
      await device.drain();
      await this.flushWithin(Math.max(0, deadline - Date.now()));
    } catch (error) {
      failure = error;
    }
    try {
      await this.hooks.shutdown.promise();
    } catch (error) {
      // A shutdown tap's error says where unstored blocks are; it explains the flush failure better.
      failure = failure === undefined ? error : attachCause(error, failure);
    }
    try {
      if (failure === undefined) await lease.release();
    } catch (error) {
      failure = error;
    } finally {
      clearTimeout(abandon);
      await store.close().catch((error) => this.log.warn(`closing the ${store.kind} store: ${String(error)}`));
      this.state = 'shut-down';
    }
    if (failure !== undefined) throw failure;
  }

  /** `flush` until it succeeds; after `timeoutMs` of failures (or of one flush that never settles) give up with S3B_FLUSH_FAILED. */
  private async flushWithin(timeoutMs: number): Promise<void> {
    if (!this.hooks.flush.isUsed()) return;
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => { timer = setTimeout(() => resolve('expired'), timeoutMs); });
    let lastError: unknown;
    try {
      for (let attempt = 1; ; attempt++) {
        const outcome = await Promise.race([this.hooks.flush.promise().then(() => 'stored' as const, (error: unknown) => { lastError = error; return 'failed' as const; }), expired]);
        if (outcome === 'stored') return;
        if (outcome === 'expired' || Date.now() >= deadline) break;
        const reason = lastError instanceof Error ? lastError.message : String(lastError);
        this.log.warn(`unmount: dirty blocks could not all be stored (attempt ${attempt}: ${reason}); retrying for up to ${Math.ceil((deadline - Date.now()) / 1000)} s more`);
        await Promise.race([new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, deadline - Date.now())))), expired]);
      }
    } finally {
      clearTimeout(timer);
    }
    const reason = lastError === undefined ? 'the store did not answer' : lastError instanceof Error ? lastError.message : String(lastError);
    throw new S3BackerError('S3B_FLUSH_FAILED',
      `could not store every dirty block within --shutdownTimeout=${this.config.shutdownTimeout} s (${reason}); the mounted flag stays set. Check that the store is reachable, then mount again`,
      lastError === undefined ? {} : { cause: lastError });
  }

  /** The store, opened, for maintenance commands (erase, reset the mounted flag): no mount, no flag. The caller closes it. */
  async openStore(): Promise<ObjectStore> {
    this.seal();
    const store = await this.createStore();
    try {
      await store.open();
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
    return store;
  }

  /** Every block that may hold data: what the store lists, plus what plugins add (e.g. unflushed cache entries); sorted, unique. */
  async listBlocks(): Promise<number[]> {
    const { store, geometry } = this.requireMounted();
    const blocks = new Set<number>();
    for await (const key of store.list({ prefix: geometry.prefix })) {
      const block = geometry.parseKey(key);
      if (block !== undefined) blocks.add(block);
    }
    await this.hooks.listBlocks.promise({ add: (block) => blocks.add(block) });
    return [...blocks].sort((a, b) => a - b);
  }

  private async createStore(): Promise<ObjectStore> {
    const name = this.config.store;
    const provider = this.hooks.createStore.get(name);
    const store = provider?.isUsed() ? await provider.promise(this.config) : undefined;
    if (!store) {
      const known = this.storeNames();
      throw new S3BackerError('S3B_NO_BACKEND', `no plugin provides a store named "${name}"; ${known.length === 0
        ? 'add a plugin that registers one'
        : `choose one of: ${known.map((known) => `--store=${known}`).join(', ')}, or add the plugin that provides "${name}"`}`);
    }
    return this.hooks.wrapStore.isUsed() ? this.hooks.wrapStore.promise(store, this.config) : store;
  }

  private requireMounted(): Mounted {
    if (!this.mounted) throw new S3BackerError('S3B_ENGINE_STATE', `the volume is not mounted (engine is ${this.state}); call mount() first`);
    return this.mounted;
  }

  /** A plugin's declared defaults, overridden by the values given for it; frozen. */
  private optionsOf(plugin: S3BackerPlugin): Readonly<Record<string, unknown>> {
    const values: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(plugin.options ?? {})) if (spec.default !== undefined) values[key] = spec.default;
    const given = Object.hasOwn(this.pluginOptions, plugin.name) ? this.pluginOptions[plugin.name] : undefined;
    for (const [key, value] of Object.entries(given ?? {})) if (value !== undefined) values[key] = value;
    return Object.freeze(values);
  }

  private pluginApi(options: Readonly<Record<string, unknown>>): EnginePluginApi {
    const engine = this;
    return {
      hooks: this.pluginHooks,
      config: this.config,
      options,
      get geometry() { return engine.geometry; },
      get objects() { return engine.objects; },
      fetchBlock: (block: number) => this.requireMounted().tier.fetch(block),
      unstoredBlocks: async () => {
        const blocks: number[] = [];
        if (this.hooks.listBlocks.isUsed()) await this.hooks.listBlocks.promise({ add: (block) => blocks.push(block) });
        return blocks;
      },
      stats: (provider: StatsProvider) => this.stats.register(provider),
      logger: (source: string) => createLogger(this.logSink, source),
      evicted: (event: EvictEvent) => this.hooks.evict.promise(event),
    };
  }

  private sealedError(plugin: string): S3BackerError {
    return new S3BackerError('S3B_ENGINE_SEALED',
      `plugin "${plugin}" tapped a hook after the engine was sealed; plugins must tap hooks inside apply(), not later`, { plugin });
  }

  /**
   * One register interceptor per hook: refuses taps once sealed (unified's frozen processor) and
   * wraps each tap so a foreign error becomes S3B_PLUGIN_ERROR naming the plugin, hook and block.
   */
  private guard<H extends { name?: string | undefined; intercept(interceptor: object): void }>(hook: H): H {
    const hookName = hook.name ?? 'hook';
    hook.intercept({
      register: (tap: Tap & { fn: (...args: unknown[]) => unknown; type: 'sync' | 'async' | 'promise' }) => {
        if (this.state !== 'configuring') throw this.sealedError(tap.name);
        const fn = tap.fn;
        const wrap = (error: unknown, args: unknown[]) => wrapPluginError(error, tap.name, hookName, blockOf(args));
        if (tap.type === 'promise') {
          // Called at once (not a microtask later): this wrapper runs for every tap of every block.
          tap.fn = (...args: unknown[]) => {
            try {
              return Promise.resolve(fn(...args)).catch((error: unknown) => { throw wrap(error, args); });
            } catch (error) {
              return Promise.reject(wrap(error, args));
            }
          };
        } else if (tap.type === 'sync') {
          tap.fn = (...args: unknown[]) => { try { return fn(...args); } catch (error) { throw wrap(error, args); } };
        } else {
          tap.fn = (...args: unknown[]) => {
            const callback = args.pop() as (error?: unknown, result?: unknown) => void;
            return fn(...args, (error: unknown, result: unknown) => callback(error ? wrap(error, args) : error, result));
          };
        }
        return tap;
      },
    });
    return hook;
  }
}

/** Keep `earlier` reachable from `error` (as its cause, when it has none). */
function attachCause(error: unknown, earlier: unknown): unknown {
  if (error instanceof Error && error.cause === undefined) Object.defineProperty(error, 'cause', { value: earlier, configurable: true, writable: true });
  return error;
}

type Guardable = { name?: string | undefined; intercept(interceptor: object): void };

/** A HookMap's hooks by key, with their taps (tapable keeps them in `_map`). */
function tapsByKey(map: object): Array<[string, ReadonlyArray<{ name: string }>]> {
  return [...(map as unknown as { _map: Map<string, { taps: ReadonlyArray<{ name: string }> }> })._map].map(([key, hook]) => [key, hook.taps]);
}

function blockOf(args: unknown[]): number | undefined {
  for (const arg of args) {
    const block = (arg as { block?: unknown } | null)?.block;
    if (typeof block === 'number') return block;
  }
  return undefined;
}
