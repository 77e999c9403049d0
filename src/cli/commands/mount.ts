import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ResolvedConfig } from '../../config/resolved-config.js';
import type { S3BackerPlugin } from '../../engine/plugin.js';
import type { PluginOptionValues } from '../../config/merge-config.js';
import { S3BackerError } from '../../errors/s3backer-error.js';
import { FuseFrontend } from '../../frontends/fuse/fuse-frontend.js';
import { serveVolume } from '../serve-frontend.js';

async function checkMountPoint(mountPoint: string): Promise<string> {
  const path = resolve(mountPoint);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new S3BackerError('S3B_MOUNT_POINT', `mount point ${path} does not exist (${error.code}); create it with mkdir -p ${path}`, { cause: error });
  });
  if (!info.isDirectory()) throw new S3BackerError('S3B_MOUNT_POINT', `mount point ${path} is not a directory; give an empty directory`);
  return path;
}

/** `s3backer [flags] bucket mountpoint`: the disk as a file in a FUSE directory (the C tool's fuse_ops.c). */
export async function mountCommand(given: ResolvedConfig, fuseOptions: readonly string[], argv: readonly string[], plugins: readonly S3BackerPlugin[] = [],
  pluginOptions: PluginOptionValues = {}): Promise<number> {
  const mountPoint = await checkMountPoint(given.mountPoint!);
  return serveVolume({
    config: given, plugins, pluginOptions, argv, target: mountPoint,
    frontend: (engine, config) => new FuseFrontend({
      mountPoint, filename: config.filename, statsFilename: config.statsFilename, fileMode: config.fileMode!,
      readOnly: config.readOnly, directIO: config.directIO || config.sharedDiskMode, fsname: engine.store.description, fuseOptions,
      statsText: () => engine.stats.render(), resetStats: () => engine.stats.reset(), log: engine.log,
    }),
  });
}
