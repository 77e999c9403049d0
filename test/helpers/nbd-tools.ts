import { spawnSync } from 'node:child_process';

/** Where each user-space NBD client comes from on Debian, for the skip message. */
const PACKAGE_OF: Record<string, string> = {
  nbdinfo: 'libnbd-bin', nbdcopy: 'libnbd-bin', 'qemu-io': 'qemu-utils', 'qemu-img': 'qemu-utils',
  'mkfs.ext4': 'e2fsprogs', e2fsck: 'e2fsprogs', openssl: 'openssl',
};

function installed(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** Why these tools cannot be used here, or undefined when they all can. */
export function missingToolsReason(tools: readonly string[]): string | undefined {
  const missing = tools.filter((tool) => !installed(tool));
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((tool) => PACKAGE_OF[tool] ?? tool))];
  return `needs ${missing.join(', ')} (apt-get install ${packages.join(' ')})`;
}

/** Skip a test with a printed reason (node:test shows `# SKIP reason`) when a tool is missing. */
export function skipUnlessTools(t: { skip(message?: string): void }, tools: readonly string[]): boolean {
  const reason = missingToolsReason(tools);
  if (!reason) return false;
  console.log(`skipping: ${reason}`);
  t.skip(reason);
  return true;
}
