import { readFile } from 'node:fs/promises';

/** Directory (under the store's root) holding the sidecars; a name no C block key can have. */
export const SIDECAR_DIR = '.s3backer-meta';

/** What S3 keeps beside the body; a sidecar holds it only when there is something to keep. */
export interface SidecarEntry {
  metadata: Record<string, string>;
  contentEncoding?: string;
  contentType?: string;
}

/**
 * `<root>/.s3backer-meta/<key>.json`. Entries are keyed by the MD5 of the body they describe, so
 * a body and its metadata never get mixed up whatever the crash point (see DirStore.put): the
 * body's own MD5 picks its entry, and a body without an entry has no metadata.
 */
export interface Sidecar {
  version: 1;
  entries: Record<string, SidecarEntry>;
}

/** The sidecar's text and parsed form; undefined when there is none. Throws on unreadable JSON. */
export async function readSidecar(path: string): Promise<{ text: string; sidecar: Sidecar } | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<Sidecar> | null;
  if (!parsed || typeof parsed !== 'object' || typeof parsed.entries !== 'object' || parsed.entries === null) {
    throw new SyntaxError('not an s3backer sidecar (no "entries" object)');
  }
  return { text, sidecar: { version: 1, entries: parsed.entries } };
}

export function formatSidecar(sidecar: Sidecar): string {
  return JSON.stringify(sidecar) + '\n';
}
