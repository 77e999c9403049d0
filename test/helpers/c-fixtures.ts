import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StoredObject } from '../../src/engine/object-store.js';
import type { BlockDevice } from '../../src/engine/block-device.js';

/** Golden objects written by the C s3backer 2.1.6 (test/fixtures/c-s3backer/README.md). */
export interface FixtureObject {
  key: string;
  block: number;
  kind: 'pattern' | 'text';
  headers: Record<string, string>;
  bodyBase64: string;
}
export interface FixtureWrite { block: number; kind: 'pattern' | 'text' | 'zeros'; key: string; plaintextSha256?: string }
export interface FixtureCase {
  name: string;
  /** The C tool's flags besides the common ones (README "Cases"). */
  flags: string[];
  bucket: string;
  prefix: string;
  blockSize: number;
  size: number;
  numBlocks: number;
  blockHashPrefix?: boolean;
  compression: { alg: string; level: number } | null;
  encryption: string | null;
  password?: string;
  derivedCrypto?: { salt: string; keyHex: string; ivkeyHex: string; ivHexByBlock: Record<string, string> };
  writes: FixtureWrite[];
  objects: FixtureObject[];
  mountToken?: { key: string; headers: Record<string, string>; bodyText: string };
}

// Read from the source tree (this file runs as dist/test/helpers/c-fixtures.js): the repository is self-contained.
export const FIXTURES_PATH = fileURLToPath(new URL('../../../test/fixtures/c-s3backer/fixtures.json', import.meta.url));

export function loadFixtureCases(): FixtureCase[] {
  return (JSON.parse(readFileSync(FIXTURES_PATH, 'utf8')) as { cases: FixtureCase[] }).cases;
}

/** The fixture's data rules: the plaintext of block `b` of a given kind. */
export function fixturePlaintext(kind: FixtureWrite['kind'], block: number, blockSize: number): Buffer {
  if (kind === 'zeros') return Buffer.alloc(blockSize);
  if (kind === 'pattern') return Buffer.from(Array.from({ length: blockSize }, (_, i) => (block * 31 + i * 7) & 0xff));
  let text = '';
  for (let n = 0; text.length < blockSize; n++) text += `s3backer block ${block} line ${n}\n`;
  return Buffer.from(text.slice(0, blockSize), 'ascii');
}

/** A fixture object as an ObjectStore would hold it (metadata names without `x-amz-meta-`). */
export function fixtureToStored(object: FixtureObject): StoredObject {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(object.headers)) if (name.startsWith('x-amz-meta-')) metadata[name.slice(11)] = value;
  const body = Buffer.from(object.bodyBase64, 'base64');
  return {
    body, metadata, etag: object.headers.etag!, size: body.length,
    ...(object.headers['content-type'] ? { contentType: object.headers['content-type'] } : {}),
    ...(object.headers['content-encoding'] ? { contentEncoding: object.headers['content-encoding'] } : {}),
  };
}

/** The fixture's objects as a memory volume holds them: a bucket the C tool wrote. */
export function fixtureVolume(fixture: FixtureCase): Map<string, StoredObject> {
  return new Map(fixture.objects.map((object) => [object.key, fixtureToStored(object)]));
}

/** Writes the blocks the C tool wrote for the fixture, each with its plaintext. */
export async function writeFixturePlaintext(device: Pick<BlockDevice, 'write'>, fixture: FixtureCase): Promise<void> {
  for (const write of fixture.writes) await device.write(write.block * fixture.blockSize, fixturePlaintext(write.kind, write.block, fixture.blockSize));
}

/** Every block the fixture wrote reads back as its plaintext (and its SHA-256, where the fixture records one). */
export async function assertFixturePlaintext(device: Pick<BlockDevice, 'read'>, fixture: FixtureCase): Promise<void> {
  for (const write of fixture.writes) {
    const data = await device.read(write.block * fixture.blockSize, fixture.blockSize);
    assert.ok(data.equals(fixturePlaintext(write.kind, write.block, fixture.blockSize)), `block ${write.block} (${write.kind})`);
    if (write.plaintextSha256) assert.equal(createHash('sha256').update(data).digest('hex'), write.plaintextSha256, `block ${write.block} SHA-256`);
  }
}

/**
 * `volume` holds the fixture's objects as the C tool stored them (body, metadata, Content-Type,
 * Content-Encoding) and, besides them, only `extraKeys`.
 */
export function assertStoredAsFixture(volume: ReadonlyMap<string, StoredObject>, fixture: FixtureCase, extraKeys: string[] = []): void {
  assert.deepEqual([...volume.keys()].sort(), [...fixture.objects.map((o) => o.key), ...extraKeys].sort(),
    `the C tool's keys${extraKeys.length > 0 ? ` plus ${extraKeys.join(', ')}` : ''} (the zeros block deleted, the mounted flag cleared)`);
  for (const expected of fixture.objects) {
    const ours = volume.get(expected.key)!;
    const theirs = fixtureToStored(expected);
    assert.equal(ours.body.toString('hex'), theirs.body.toString('hex'), `${expected.key} body`);
    assert.deepEqual(ours.metadata, theirs.metadata, `${expected.key} metadata`);
    assert.equal(ours.contentType, theirs.contentType, `${expected.key} Content-Type`);
    assert.equal(ours.contentEncoding, theirs.contentEncoding, `${expected.key} Content-Encoding`);
  }
}
