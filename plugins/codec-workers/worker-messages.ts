/** What the pool sends a codec worker thread. Messages on one port arrive in the order sent. */
export type ToWorker =
  /** Import `module` and keep `createWorkerCodec(init)` under `codec` (once per worker and mount). */
  | { readonly kind: 'load'; readonly codec: number; readonly module: string; readonly init: unknown }
  /** Forget `codec` (and the key material its init held). */
  | { readonly kind: 'unload'; readonly codec: number }
  /** Run `op` of `codec` on `input`; answer with `job`. */
  | { readonly kind: 'job'; readonly job: number; readonly codec: number; readonly op: string; readonly input: unknown };

/** What a codec worker thread sends: that it started, then one answer per job. */
export type FromWorker =
  /** Sent once, first: the thread's script ran, so the thread started. */
  | { readonly kind: 'ready' }
  | { readonly kind: 'done'; readonly job: number; readonly value: unknown }
  /** `load`: the codec's module could not be imported or its createWorkerCodec threw; `run`: the operation threw. */
  | { readonly kind: 'failed'; readonly job: number; readonly stage: 'load' | 'run'; readonly message: string; readonly stack: string | undefined };
