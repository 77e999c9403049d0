import { existsSync } from 'node:fs';

/**
 * Why FUSE tests cannot run here, or undefined when they can. They need root and /dev/fuse
 * (CI has both); elsewhere they skip with this printed reason, never silently.
 */
export function fuseUnavailableReason(options: { loop?: boolean } = {}): string | undefined {
  if (process.getuid?.() !== 0) return 'FUSE tests need root (run as root, as CI does)';
  if (!existsSync('/dev/fuse')) return 'FUSE tests need /dev/fuse';
  if (options.loop && !existsSync('/dev/loop-control')) return 'ext4 tests need loop devices (/dev/loop-control)';
  return undefined;
}

/** Skip a test with a reason printed to the output (node:test shows `# SKIP reason`). */
export function skipUnlessFuse(t: { skip(message?: string): void }, options: { loop?: boolean } = {}): boolean {
  const reason = fuseUnavailableReason(options);
  if (reason) {
    console.log(`skipping: ${reason}`);
    t.skip(reason);
    return true;
  }
  return false;
}
