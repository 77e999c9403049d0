import type { ResolvedConfig } from '../../config/resolved-config.js';
import type { S3BackerPlugin } from '../../engine/plugin.js';
import type { PluginOptionValues } from '../../config/merge-config.js';
import { S3BackerError } from '../../errors/s3backer-error.js';
import { serveVolume } from '../serve-frontend.js';

/** The export's name: the volume as the command line named it (`bucket/subdir`); clients may also ask for the empty name. */
function exportName(config: ResolvedConfig): string {
  const prefix = config.prefix.replace(/\/+$/, '');
  return prefix === '' ? config.bucket : `${config.bucket}/${prefix}`;
}

/**
 * `s3backer --nbd-listen=ADDRESS [flags] bucket[/subdir]`: the disk as an NBD export, no mount
 * point; and the C tool's `s3backer --nbd [flags] bucket[/subdir] /dev/nbdX` (main.c), which serves
 * that export on a private socket to the kernel's nbd-client. Loaded only for these commands: the
 * FUSE binding is never loaded here.
 */
export async function nbdCommand(config: ResolvedConfig, fuseOptions: readonly string[], argv: readonly string[], plugins: readonly S3BackerPlugin[] = [],
  pluginOptions: PluginOptionValues = {}): Promise<number> {
  if (fuseOptions.length > 0) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `-o ${fuseOptions.join(',')} ${fuseOptions.length === 1 ? 'is a FUSE mount option' : 'are FUSE mount options'}, which mean nothing for an NBD export; drop ${fuseOptions.length === 1 ? 'it' : 'them'}`);
  }
  if (config.nbd) {
    if (process.getuid?.() !== 0) throw new S3BackerError('S3B_NBD_DEVICE', '--nbd attaches a kernel device with nbd-client, which needs root; run it as root, or serve with --nbd-listen=unix:/path.sock as any user');
    const { KernelNbdFrontend } = await import('../../frontends/nbd-client/kernel-nbd-frontend.js');
    const device = config.nbdDevice!;
    return serveVolume({
      config, plugins, pluginOptions, argv, target: device,
      frontend: (engine, resolved) => new KernelNbdFrontend({ device, readOnly: resolved.readOnly, exportName: exportName(resolved), log: engine.log }),
    });
  }
  const { NbdFrontend } = await import('../../frontends/nbd/nbd-frontend.js');
  const listen = config.nbdListen!;
  return serveVolume({
    config, plugins, pluginOptions, argv, target: listen,
    frontend: (engine, resolved) => new NbdFrontend({
      listen, exportName: exportName(resolved), readOnly: resolved.readOnly, log: engine.log,
      ...(resolved.nbdTlsCert === undefined || resolved.nbdTlsKey === undefined ? {} : { tls: { cert: resolved.nbdTlsCert, key: resolved.nbdTlsKey } }),
    }),
  });
}
