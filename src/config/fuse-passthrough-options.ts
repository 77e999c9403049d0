/**
 * `-o` items that are not s3backer options but standard FUSE / mount(8) options, passed through to
 * the FUSE frontend untouched. The C tool hands every unknown `-o` item to FUSE (s3b_config.c, its
 * fuse_opt parsing), so a typo such as `-o blocksize=1m` is silently ignored there; we pass only this fixed allow-list and
 * report anything else as an unknown option, naming the closest s3backer option.
 *
 * Spelling of an entry:
 * - `name`   the item must be exactly `name` (no value);
 * - `name=`  the item must be `name=VALUE` with a non-empty value;
 * - `name*`  any item starting with `name` (systemd's `x-systemd.*` family from /etc/fstab).
 */
export const FUSE_PASSTHROUGH_OPTIONS: readonly string[] = Object.freeze([
  // FUSE (libfuse mount options)
  'allow_other', 'allow_root', 'default_permissions', 'uid=', 'gid=', 'umask=', 'nonempty',
  'max_read=', 'fsname=', 'subtype=', 'kernel_cache', 'auto_cache',
  'entry_timeout=', 'attr_timeout=', 'negative_timeout=',
  // mount(8) generic options, as they appear in /etc/fstab (`s3backer#bucket /mnt fuse ro,noauto,...`)
  'ro', 'rw', 'noatime', 'atime', 'relatime', 'nodev', 'nosuid', 'dev', 'suid', 'exec', 'noexec',
  'auto', 'noauto', 'user', 'nouser', 'users', '_netdev', 'nofail', 'defaults', 'sync', 'async',
  'comment=', 'x-systemd.*',
]);

/** Whether one `-o` item (`name` or `name=value`) is on the FUSE pass-through allow-list. */
export function isFusePassthroughOption(item: string): boolean {
  return FUSE_PASSTHROUGH_OPTIONS.some((entry) => {
    if (entry.endsWith('*')) return item.startsWith(entry.slice(0, -1));
    if (entry.endsWith('=')) return item.startsWith(entry) && item.length > entry.length;
    return item === entry;
  });
}
