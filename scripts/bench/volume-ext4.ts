// ext4 on a bench volume's disk file through a loop device with direct I/O, and its cold remount:
// ext4 unmounted and the loop device detached (their caches go with them), the volume gone cold
// (a new s3backer process on a server), then everything attached and mounted again.
import type { BenchVolume } from './bench-volume.js';
import { makeExt4, mountExt4OnLoop, type Ext4Mount } from './ext4-on-loop.js';
import { step } from './progress.js';

export class VolumeExt4 {
  private mounted: Ext4Mount | undefined;
  /** Whether the loop device really does direct I/O (losetup falls back to buffered when the file refuses O_DIRECT). */
  directIO = false;

  private constructor(private readonly volume: BenchVolume, readonly dir: string, private readonly mountOptions: string) {}

  /** mkfs.ext4 on the volume's disk file and mount it on a new directory. */
  static async create(volume: BenchVolume, options: { inodes?: number; mountOptions?: string } = {}): Promise<VolumeExt4> {
    await step(`${volume.prefix}: mkfs.ext4 -E nodiscard${options.inodes ? ` -N ${options.inodes}` : ''} on the disk file`, () => makeExt4(volume.diskFile, options.inodes), () => 'done');
    const ext4 = new VolumeExt4(volume, await volume.rc.bench.newMountPoint(`${volume.spec.name}-ext4`), options.mountOptions ?? 'noatime');
    await ext4.attach();
    return ext4;
  }

  private async attach(): Promise<void> {
    this.mounted = await step(`${this.volume.prefix}: losetup --direct-io=on + mount ext4 -o ${this.mountOptions}`,
      () => mountExt4OnLoop(this.volume.diskFile, this.dir, this.mountOptions), (e) => `${e.device}, loop direct I/O ${e.directIO ? 'on' : 'OFF (fell back to buffered)'}`);
    this.directIO = this.mounted.directIO;
  }

  /** Everything unmounted and mounted again, the volume cold in between. */
  async remountCold(): Promise<void> {
    await this.release();
    await this.volume.goCold();
    await this.attach();
  }

  async release(): Promise<void> {
    const mounted = this.mounted;
    this.mounted = undefined;
    await mounted?.release();
  }
}
