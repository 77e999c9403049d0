import { createInterface } from 'node:readline';
import type { ResolvedConfig } from '../../config/resolved-config.js';
import type { S3BackerPlugin } from '../../engine/plugin.js';
import type { PluginOptionValues } from '../../config/merge-config.js';
import { detectGeometry } from '../../engine/detect-geometry.js';
import type { BlockGeometry } from '../../engine/block-geometry.js';
import type { ObjectStore } from '../../engine/object-store.js';
import { S3BackerError } from '../../errors/s3backer-error.js';
import { createMaintenanceEngine } from '../run-engine.js';
import { readMountedFlag } from '../read-mounted-flag.js';
import { deleteObjects, type DeleteObjectsOptions } from '../delete-objects.js';
import { EraseProgress } from '../erase-progress.js';
import { deleteKeyCheck } from '../../../plugins/encrypt-hmac/index.js';

/** Failed keys named in a message; the rest are counted. */
const KEYS_SHOWN = 5;

export interface EraseIo {
  /** Where the confirmation is read; only a terminal is asked. */
  stdin: NodeJS.ReadStream;
  /** Prompt and progress; a terminal gets one line redrawn in place. */
  stderr: NodeJS.WriteStream;
}

/**
 * `--erase`: delete every block object, then the key check and the mounted flag (the C tool's
 * erase.c, which neither checks the flag nor stops on failures; this one does both). Without
 * `--force` it asks on a terminal and refuses where nobody can answer; a volume whose mounted flag
 * is set is refused unless forced, and forcing it is loudly warned about. Blocks go by bulk
 * DeleteObjects where the store has it (delete-objects.ts). The volume is listed again at the end:
 * any block left is a failure (exit 1), and then the flag and the key check stay.
 */
export async function eraseCommand(config: ResolvedConfig, io: EraseIo = { stdin: process.stdin, stderr: process.stderr },
  settings: Pick<DeleteObjectsOptions, 'bulk'> & { plugins?: readonly S3BackerPlugin[]; pluginOptions?: PluginOptionValues } = {}): Promise<number> {
  const engine = createMaintenanceEngine(config, settings.plugins ?? [], undefined, settings.pluginOptions);
  const store = await engine.openStore();
  try {
    const geometry = await detectGeometry(store, config, engine.log);
    const flag = await readMountedFlag(store, geometry.mountTokenKey);
    if (flag && !config.force) {
      throw new S3BackerError('S3B_MOUNTED_ELSEWHERE',
        `not erased: ${store.description} is marked as mounted ${flag.description}; unmount it first. If no s3backer has it mounted (one crashed), clear the flag with --reset-mounted-flag, or give --force to erase it anyway`);
    }
    if (flag) {
      engine.log.warn(`${store.description} is marked as MOUNTED ${flag.description}; ERASING IT ANYWAY because of --force. If that mount is still running, it keeps writing into the erased volume: stop it now`);
    }
    if (!config.force) await confirm(store.description, io);

    const started = performance.now();
    const progress = new EraseProgress(config.quiet ? { write: () => true } : io.stderr, { terminal: io.stderr.isTTY === true });
    let outcome;
    try {
      outcome = await deleteObjects(store, blockKeys(store, geometry), {
        ...settings,
        onFound: (n) => progress.found(n),
        onDeleted: (n) => progress.deleted(n),
        onFailed: (n) => progress.failed(n),
        onListed: () => progress.listingDone(),
        onFallback: (reason) => engine.log.warn(`a bulk delete request failed (${reason}); deleting the remaining blocks one at a time`),
      });
    } finally {
      progress.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    if (outcome.stopped !== undefined) {
      if (outcome.failed.length > 0) engine.log.error(`${outcome.failed.length} blocks could not be deleted: ${listKeys(outcome.failed)}`);
      const reason = outcome.stopped instanceof Error ? outcome.stopped.message : String(outcome.stopped);
      throw new S3BackerError('S3B_ERASE_INCOMPLETE',
        `erase of ${store.description} stopped after deleting ${outcome.deleted} of the ${outcome.found} blocks found: ${reason}; the mounted flag and key check are kept. Run --erase again once the store works`,
        { cause: outcome.stopped });
    }

    // Trust what the store lists now, not what the deletes answered: a block that a failed delete
    // removed after all is gone, and one written meanwhile (a live mount) is not.
    const remaining: string[] = [];
    for await (const key of blockKeys(store, geometry)) remaining.push(key);
    if (outcome.failed.length > 0) {
      if (remaining.length > 0) engine.log.error(`${outcome.failed.length} blocks could not be deleted: ${listKeys(outcome.failed)}`);
      else engine.log.warn(`${outcome.failed.length} deletes reported a failure (${listKeys(outcome.failed)}), but listing again finds no block left: they were deleted after all`);
    }
    if (remaining.length > 0) {
      const why = outcome.failed.length > 0 ? `${outcome.failed.length} deletes failed` : 'every delete succeeded, so they were written during the erase: is the volume still mounted somewhere?';
      throw new S3BackerError('S3B_ERASE_INCOMPLETE',
        `not fully erased: ${remaining.length} blocks of ${store.description} remain (${remaining.slice(0, KEYS_SHOWN).join(', ')}${remaining.length > KEYS_SHOWN ? ', …' : ''}; ${why}); the mounted flag and key check are kept. Fix the cause and run --erase again`);
    }

    // Last, and only now: while a block is left, the flag and the key check still describe it.
    // An encrypted volume's key check goes too: a new volume here may use another password.
    await deleteKeyCheck(store, geometry.prefix);
    await store.delete(geometry.mountTokenKey);
    const how = outcome.bulkRequests > 0 ? `${outcome.bulkRequests} bulk delete requests` : `${outcome.singleRequests} delete requests`;
    const rate = seconds >= 1 ? `, ${Math.round(outcome.found / seconds)} blocks/s` : '';
    // Every block found is gone (the listing above says so), whatever some deletes answered.
    io.stderr.write(`s3backer: erased ${outcome.found} non-zero blocks in ${seconds.toFixed(1)} s (${how}${rate})\n`);
    if (config.blockCacheFile !== undefined) {
      engine.log.warn(`--erase does not touch the cache file ${config.blockCacheFile}: it still holds blocks of the erased volume; delete it before using it again`);
    }
  } finally {
    await store.close();
  }
  return 0;
}

/** The volume's block keys as the store lists them (the mounted flag, key check and other objects are not blocks). */
async function* blockKeys(store: ObjectStore, geometry: BlockGeometry): AsyncIterable<string> {
  for await (const key of store.list({ prefix: geometry.prefix })) if (geometry.parseKey(key) !== undefined) yield key;
}

function listKeys(failed: ReadonlyArray<{ key: string; error: string }>): string {
  const shown = failed.slice(0, KEYS_SHOWN).map(({ key, error }) => `${key} (${error})`).join('; ');
  return failed.length > KEYS_SHOWN ? `${shown}; and ${failed.length - KEYS_SHOWN} more` : shown;
}

/**
 * Ask on a terminal; refuse where nobody can answer (a script, a pipe, cron): an erase that
 * silently did nothing, or everything, is what `--force` exists to make explicit.
 */
async function confirm(description: string, io: EraseIo): Promise<void> {
  if (io.stdin.isTTY !== true) {
    throw new S3BackerError('S3B_NOT_CONFIRMED',
      `not erased: standard input is not a terminal, so nobody can confirm erasing ${description}; give --force to erase without asking`);
  }
  const prompt = createInterface({ input: io.stdin, output: io.stderr });
  const answer = await new Promise<string>((resolve) => {
    // End of input or Ctrl-C is a "no" (readline without a SIGINT listener would only pause).
    prompt.once('close', () => resolve(''));
    prompt.once('SIGINT', () => prompt.close());
    prompt.question(`s3backer: erase all blocks of ${description}? [y/N] `, resolve);
  });
  prompt.close();
  if (!/^(y|yes)$/i.test(answer.trim())) throw new S3BackerError('S3B_NOT_CONFIRMED', `not erased: the answer was not "yes"`);
}
