import { AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, HookMap } from 'tapable';
import type { ObjectStore } from './object-store.js';
import type { BlockGeometry } from './block-geometry.js';
import type { ResolvedConfig } from '../config/resolved-config.js';

/** One block of the volume, as the block tier sees it. */
export interface BlockRequest {
  readonly block: number;
  /** Object name of the block. */
  readonly key: string;
}

export interface WriteRequest extends BlockRequest {
  /**
   * Exactly one block of data. Taps must not keep a reference after their promise settles, unless
   * `owned` says the buffer was made for this write alone (a partial write's patched copy): then a
   * tap (a cache) may keep it instead of copying it, and must never write into it.
   */
  readonly data: Buffer;
  readonly owned: boolean;
  /** The data is all zeros: the object tier will delete the object instead of storing it. */
  readonly isZero: boolean;
}

/** Part of one block: `data` goes at `offset` inside it (a write that does not cover the whole block). */
export interface PartialWriteRequest extends BlockRequest {
  readonly offset: number;
  /** The caller's bytes: taps copy what they keep before their promise settles. */
  readonly data: Buffer;
  /** The bytes are all zeros. */
  readonly isZero: boolean;
}

/** A block's bytes on their way to or from the store, with the Content-Encoding tokens applied so far. */
export interface EncodedObject {
  readonly body: Buffer;
  /** Tokens in the order they were applied (the object's Content-Encoding, left to right). */
  readonly encodings: readonly string[];
  /** Object metadata (lower-case names without `x-amz-meta-`). */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface BlockContext extends BlockRequest {
  readonly blockSize: number;
}

/** Whole blocks `[first, first + count)` that a trim zeroed. */
export interface TrimRequest {
  readonly first: number;
  readonly count: number;
}

export interface MountContext {
  readonly store: ObjectStore;
  readonly geometry: BlockGeometry;
  readonly config: ResolvedConfig;
  /** The token of the mounted flag this mount holds; undefined for a read-only mount (which takes no flag) and in shared disk mode (whose shared token is nobody's). */
  readonly mountToken: number | undefined;
}

/** The mounted flag is set: by another mount, or by a mount of ours that crashed. */
export interface ReclaimRequest {
  readonly store: ObjectStore;
  /** The token recorded in the flag object. */
  readonly token: number;
}

/** Receives block numbers that may hold data (duplicates allowed). */
export interface BlockSink {
  add(block: number): void;
}

export interface EvictEvent {
  readonly block: number;
  /** Why the block left memory, e.g. "lru" or "trim". */
  readonly reason: string;
}

type Codec = AsyncSeriesWaterfallHook<[EncodedObject, BlockContext]>;

/**
 * The single place hooks are declared: the hook class is the semantics (Bail: the first answer
 * wins; Waterfall: each tap transforms the value; HookMap: dispatch by key). Frozen; plugins tap
 * them inside `apply()` only.
 */
export function createEngineHooks() {
  return Object.freeze({
    /**
     * The store registry: a plugin registers the store it provides with `createStore.for(name)`;
     * `--store=NAME` picks one by name, and an unknown name lists the registered ones. One provider
     * per name. The tap is called once per mount (and per maintenance command), only when chosen.
     */
    createStore: new HookMap((name: string) => new AsyncSeriesBailHook<[ResolvedConfig], ObjectStore | undefined>(['config'], `createStore:${name}`)),
    /**
     * The chosen store, wrapped: each tap returns a store around the one it is given (a request
     * counter, a rate limiter, the chaos store), in stage order, the lowest stage nearest the real
     * store. A wrapped store keeps the ObjectStore contract (and passes the backend suite).
     */
    wrapStore: new AsyncSeriesWaterfallHook<[ObjectStore, ResolvedConfig]>(['store', 'config'], 'wrapStore'),
    /**
     * The volume's mounted flag is set (token in the request). A tap that can prove the flag is its
     * own crashed mount's (a cache file recording that token) returns true: the mount proceeds
     * without --force, as the C tool's --blockCacheRecoverDirtyBlocks does.
     */
    reclaimMount: new AsyncSeriesBailHook<[ReclaimRequest], true | undefined>(['request'], 'reclaimMount'),
    /** Once per mount, after the store is open, the geometry known and the mounted flag taken: start plugin I/O here. */
    mount: new AsyncSeriesHook<[MountContext]>(['mount'], 'mount'),
    /** After every `mount` tap succeeded, just before the frontend serves requests. */
    ready: new AsyncSeriesHook<[MountContext]>(['mount'], 'ready'),
    /**
     * Once, at unmount, after in-flight I/O drained and `flush` ran, even when `flush` failed: stop
     * timers and release resources. A tap that still holds unstored blocks throws an error saying
     * where they are (a cache file) or that they are lost; the mounted flag then stays set.
     */
    shutdown: new AsyncSeriesHook<[]>([], 'shutdown'),

    /**
     * Block tier, read: returning data answers the read (zero map, cache); undefined falls through
     * to the object tier. The returned buffer is shared and immutable: the tap may hand the same
     * buffer to every reader and the engine and frontends never write into it; a tap that keeps
     * the buffer must never write into it either (replace it on the next write instead).
     */
    readBlock: new AsyncSeriesBailHook<[BlockRequest], Buffer | undefined>(['request'], 'readBlock'),
    /** After the object tier returned a block's data (not after a `readBlock` answer). */
    blockRead: new AsyncSeriesHook<[BlockRequest, Buffer]>(['request', 'data'], 'blockRead'),
    /** Block tier, write: returning true means the write is handled (e.g. zeros onto a known-zero block); undefined stores it. */
    writeBlock: new AsyncSeriesBailHook<[WriteRequest], true | undefined>(['request'], 'writeBlock'),
    /**
     * Block tier, partial write: a tap that can apply the bytes where the block lives (a cache
     * holding it privately, C block_cache.c's write_block_part) returns true; undefined makes
     * the device read the block, patch a copy and write it whole through `writeBlock`. Called
     * under the block's lock. `blockWritten` does not follow a partial write a tap applied.
     */
    writeBlockPart: new AsyncSeriesBailHook<[PartialWriteRequest], true | undefined>(['request'], 'writeBlockPart'),
    /** After a block write completed, whether stored or handled by a `writeBlock` tap. */
    blockWritten: new AsyncSeriesHook<[WriteRequest]>(['request'], 'blockWritten'),
    /**
     * fsync / FUSE flush / unmount: resolve only when every write acknowledged so far is in the
     * store; reject (the fsync fails with EIO) when one could not be stored. At unmount the engine
     * calls it again until it succeeds or --shutdownTimeout passes.
     */
    flush: new AsyncSeriesHook<[]>([], 'flush'),
    /** After a trim zeroed whole blocks (the objects are deleted). */
    trim: new AsyncSeriesHook<[TrimRequest]>(['request'], 'trim'),
    /** Listing: add blocks that may hold data but are not (yet) in the store, e.g. dirty cache entries. */
    listBlocks: new AsyncSeriesHook<[BlockSink]>(['sink'], 'listBlocks'),
    /** A cache tier dropped a block from memory (plugins call `engine.evicted()`). */
    evict: new AsyncSeriesHook<[EvictEvent]>(['event'], 'evict'),

    /**
     * Object tier, write: each tap transforms the body and appends its Content-Encoding token
     * (compress, then encrypt). The engine enforces the codec contract: a tap that changes the body
     * must append a token, may not drop earlier ones, and every token stored must have a decoder.
     */
    encode: new AsyncSeriesWaterfallHook<[EncodedObject, BlockContext]>(['object', 'block'], 'encode') as Codec,
    /**
     * Object tier, read: before any decoding, the object as stored (`encodings` = its tokens). A tap
     * throws to refuse it: an encrypting plugin refuses an object that lacks its token, so a plain
     * object put in place of an encrypted one is never returned as data (the C tool's "was supposed
     * to be encrypted", http_io.c).
     */
    checkObject: new AsyncSeriesHook<[EncodedObject, BlockContext]>(['object', 'block'], 'checkObject'),
    /**
     * Object tier, read: keyed by token, case-insensitively (the engine lower-cases the key of
     * `for()`); the engine walks the object's recorded tokens right to left. One decoder per token.
     */
    decode: new HookMap<Codec>((token: string) => new AsyncSeriesWaterfallHook<[EncodedObject, BlockContext]>(['object', 'block'], `decode:${token}`) as Codec),
  });
}

export type EngineHooks = ReturnType<typeof createEngineHooks>;

/** What a plugin may do with a hook: tap it, never call it. */
export type TapOnly<H> = H extends HookMap<infer Inner> ? { for(key: string): TapOnly<Inner> } : Pick<H, Extract<keyof H, 'tap' | 'tapAsync' | 'tapPromise' | 'name'>>;
export type PluginHooks = { readonly [K in keyof EngineHooks]: TapOnly<EngineHooks[K]> };
