// A volume the rows run on, the same for every store: a bucket on the server target, or the memory
// store (`--store=memory`: engine + FUSE alone). It mounts s3backer, measures steps through it and
// turns each into a row, and "goes cold" between writing and reading back: on a server a new
// s3backer process on a new mount (empty block cache; a new mount has a new inode, so no page
// cache survives). The memory store lives in the s3backer process, so there the process stays
// (and its block cache with it); only what sits above it (ext4, the loop device) is remounted.
import { cacheBlocks, formatSize, mountArgs, MiB } from './bench-options.js';
import type { RowContext } from './bench-context.js';
import { againstCeiling, type BenchRow, type Ceiling, type RequestsCheck, type Unit } from './bench-row.js';
import { changedBlocks, snapshotBucket, targetS3Client, type BucketSnapshot } from './bucket-snapshot.js';
import { summariseCpuProfile, formatProfileSummary } from './cpu-profile-summary.js';
import { measuredPhase, type PhaseFigures } from './measured-phase.js';
import { describeFigure, step } from './progress.js';
import { S3backerMount } from './s3backer-mount.js';
import { S3backerNbd } from './s3backer-nbd.js';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';

/** Peak RSS allowed on a server mount: the block cache (capped at the volume) plus this. */
const RSS_HEADROOM_MIB = 150;

export interface VolumeSpec {
  /** Short name: bucket `<name>-<block size>`, mount labels. */
  name: string;
  size: number;
  /** Mount with --directIO (the memory rows' 128 KiB requests, one FUSE round trip each). */
  directIO?: boolean;
  /** Serve it as an NBD export instead of a FUSE mount (diskFile is then the export's URI). */
  nbd?: boolean;
}

/** How a step's requests are judged against the blocks it touched. */
export type RequestsRule =
  | { kind: 'read'; touched?: RequestsCheck['touched'] }
  | { kind: 'write'; touched?: RequestsCheck['touched'] }
  /** A timed random write: a block dirtied again after its upload is uploaded again, so PUTs are bounded by the writes issued. */
  | { kind: 'random-write'; touched?: RequestsCheck['touched']; writesIssued: number };

export interface RowSpec {
  workload: string;
  title: string;
  unit: Unit;
  ceiling?: Ceiling;
  target?: number;
  requests?: RequestsRule;
  details?: BenchRow['details'];
  notes?: string[];
}

export class BenchVolume {
  mount!: S3backerMount | S3backerNbd;
  private processCount = 0;
  private processLabel = '';
  /** Rows measured in the current process, to cut its --cpu-prof profile to each once it has exited. */
  private profiled: Array<{ row: BenchRow; window: PhaseFigures['window'] }> = [];
  private client: S3Client | undefined;

  private constructor(readonly rc: RowContext, readonly spec: VolumeSpec) {}

  /** Create the bucket (server) and mount. */
  static async open(rc: RowContext, spec: VolumeSpec): Promise<BenchVolume> {
    const volume = new BenchVolume(rc, spec);
    if (rc.store === 'server') await rc.bench.target!.createBucket(volume.bucket);
    await volume.start('');
    return volume;
  }

  get bucket(): string {
    return `${this.spec.name}-${this.rc.blockSize}`;
  }

  get diskFile(): string {
    return this.mount.diskFile;
  }

  /** `64 KiB s3rver`: the progress lines' prefix. */
  get prefix(): string {
    return `${formatSize(this.rc.blockSize)} ${this.rc.storeName}`;
  }

  /** What "cold" means on this store, for the rows' notes. */
  get coldMeans(): string {
    return this.rc.store === 'server'
      ? 'a new s3backer process on a new mount: empty block cache, no page cache'
      : 'the memory store lives in the s3backer process: it stays, its block cache stays warm; only what is above it is remounted';
  }

  private args(): string[] {
    const { rc, spec } = this;
    const volume = [`--size=${spec.size}`, `--blockSize=${rc.blockSize}`, ...(spec.directIO ? ['--directIO'] : []), ...mountArgs(rc.bench.options, rc.blockSize)];
    return rc.store === 'server' ? [...rc.bench.target!.flags(), ...volume, `${this.bucket}/disk`] : ['--store=memory', ...volume, 'bench'];
  }

  private async start(why: string): Promise<void> {
    this.processLabel = `${this.rc.storeName}-${this.spec.name}-${this.rc.blockSize}-p${++this.processCount}`;
    const mnt = await this.rc.bench.newMountPoint(this.processLabel);
    this.mount = await step(`${this.prefix}: mount ${this.spec.name} volume (${this.spec.size / MiB} MiB${this.spec.directIO ? ', --directIO' : ''})${why}`,
      (): Promise<S3backerMount | S3backerNbd> => (this.spec.nbd ? S3backerNbd.start(mnt, this.args(), this.rc.bench.nodeFlags(this.processLabel)) : S3backerMount.start(mnt, this.args(), this.rc.bench.nodeFlags(this.processLabel))),
      (m) => `PID ${m.pid}`);
  }

  /** Unmount and wait for a clean exit (status 0), then cut the profile to the rows measured in that process. */
  private async stop(): Promise<void> {
    const mount = this.mount;
    await step(`${this.prefix}: unmount ${this.spec.name} volume`, async () => {
      const cpu = mount.cpuSeconds();
      await mount.unmount();
      await mount.release();
      return cpu;
    }, (cpu) => `s3backer PID ${mount.pid} exited 0 after ${cpu.toFixed(1)} s of CPU`);
    const dir = this.rc.bench.options.cpuProfDir;
    if (dir) {
      for (const { row, window } of this.profiled) {
        row.profile = await summariseCpuProfile(join(dir, `${this.processLabel}.cpuprofile`), window);
        console.log(formatProfileSummary(`${this.processLabel} during ${row.title}`, row.profile));
      }
    }
    this.profiled = [];
  }

  /** Between writing and reading back: a new process on the server; nothing on the memory store. Returns whether s3backer restarted. */
  async goCold(): Promise<boolean> {
    if (this.rc.store !== 'server') return false;
    await this.stop();
    await this.start(' again (new process: cold)');
    return true;
  }

  async close(): Promise<void> {
    try {
      await this.stop();
    } finally {
      await this.mount.release();
      this.client?.destroy();
    }
  }

  /** Drop the bucket's objects (server): keeps the server's storage bounded once a volume's rows are done. */
  async drop(): Promise<void> {
    if (this.rc.store === 'server') await this.rc.bench.target!.dropBucket(this.bucket);
  }

  /** The bucket's block objects (server only): before and after a write step, they give the blocks it touched. */
  async snapshot(): Promise<BucketSnapshot | undefined> {
    if (this.rc.store !== 'server') return undefined;
    this.client ??= targetS3Client(this.rc.bench.target!);
    return snapshotBucket(this.client, this.bucket);
  }

  /** Blocks written between `before` and now, from the server's listing. */
  async writtenSince(before: BucketSnapshot | undefined): Promise<RequestsCheck['touched'] | undefined> {
    if (!before) return undefined;
    return { blocks: changedBlocks(before, (await this.snapshot())!), exact: true, how: 'block objects created, replaced or deleted (bucket listing before/after)' };
  }

  /** One measured step, printed as a progress line. */
  async measure(what: string, unit: Unit, work: () => Promise<{ value: number; seconds: number }>): Promise<PhaseFigures> {
    const serverPids = this.rc.store === 'server' ? this.rc.bench.target!.pids : {};
    return step(`${this.prefix}: ${what}`, () => measuredPhase(this.mount, serverPids, work), (p) => {
      const requests = this.rc.store === 'server' ? `, ${p.deltas.http_puts ?? 0} PUTs, ${p.deltas.http_gets ?? 0} GETs, ${p.deltas.http_deletes ?? 0} DELETEs` : '';
      return `${describeFigure(p, unit)}${requests}`;
    });
  }

  /** The measured step as a row (added to the run's rows). */
  addRow(phase: PhaseFigures, spec: RowSpec): BenchRow {
    const { rc } = this;
    const limit = rc.store === 'server'
      ? (Math.min(cacheBlocks(rc.bench.options, rc.blockSize), this.spec.size / rc.blockSize) * rc.blockSize) / MiB + RSS_HEADROOM_MIB
      : undefined;
    const notes = [...(spec.notes ?? [])];
    if (phase.after.block_cache_dirty_ratio) notes.push(`block_cache_dirty_ratio ${phase.after.block_cache_dirty_ratio} after the step`);
    const row: BenchRow = {
      id: `${rc.storeName}/${rc.blockSize}/${spec.workload}`,
      workload: spec.workload, title: spec.title, store: rc.storeName, blockSize: rc.blockSize,
      value: phase.value, unit: spec.unit, seconds: phase.seconds,
      ...againstCeiling(phase.value, spec.ceiling, spec.target),
      ...(rc.store === 'server' && spec.requests ? { requests: judgeRequests(phase, spec.requests) } : {}),
      cpu: phase.cpu,
      process: {
        pid: this.mount.pid, peakRssMiB: phase.peakRssMiB, peakCoversStepOnly: phase.peakCoversStepOnly, rssAtMountMiB: this.mount.rssAtMountMiB,
        ...(limit === undefined ? {} : { rssLimitMiB: limit, meetsRss: phase.peakRssMiB <= limit }),
      },
      counterDeltas: phase.deltas,
      details: spec.details ?? {},
      notes,
    };
    rc.bench.rows.push(row);
    if (rc.bench.options.cpuProfDir) this.profiled.push({ row, window: phase.window });
    return row;
  }
}

function judgeRequests(phase: PhaseFigures, rule: RequestsRule): RequestsCheck {
  const puts = phase.deltas.http_puts ?? NaN;
  const gets = phase.deltas.http_gets ?? NaN;
  const deletes = phase.deltas.http_deletes ?? NaN;
  const touched = rule.touched;
  const base = { puts, gets, deletes, ...(touched ? { touched } : {}) };
  if (!touched) return { ...base, rule: 'blocks touched not computable', ok: undefined };
  // Each comparison: [requests, the most the rule allows, whether that bound is exact].
  const comparisons: Array<[number, number, boolean]> =
    rule.kind === 'read' ? [[gets, touched.blocks, touched.exact]]
    : rule.kind === 'write' ? [[puts + deletes, touched.blocks, touched.exact], [gets, touched.blocks, touched.exact]]
    : [[puts + deletes, rule.writesIssued, true], [gets, touched.blocks, touched.exact]];
  const text = rule.kind === 'read' ? 'GETs ≤ blocks read'
    : rule.kind === 'write' ? 'PUTs + DELETEs ≤ blocks written, GETs ≤ blocks written'
    : 'PUTs + DELETEs ≤ 4 KiB writes issued, GETs ≤ blocks touched';
  const excess = Math.max(0, ...comparisons.filter(([, , exact]) => exact).map(([count, bound]) => count - bound));
  if (excess > 0) return { ...base, rule: text, ok: false, excess };
  const decided = comparisons.every(([count, bound, exact]) => exact || count <= bound);
  return { ...base, rule: text, ok: decided ? true : undefined };
}
