// Mounts that must be refused, clearly and at once, on a real S3 (radosgw): the second of two
// mounts of one volume started at the same moment (the mounted flag is taken with a conditional
// PUT, If-None-Match: *, which s3rver ignores), and a mount with keys radosgw does not accept
// (it checks signatures; s3rver does not).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Engine } from '../../src/engine/engine.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { retryPlugin } from '../../plugins/retry/index.js';
import { startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { fuseUnavailableReason } from '../helpers/fuse-support.js';
import { S3backerProcess, runS3backer } from '../helpers/s3backer-process.js';
import { startRadosgw, radosgwAvailability, radosgwClient, rgwFlags, logRadosgwSkip, type RadosgwServer } from '../helpers/rgw-server.js';
import { testConfig } from '../helpers/test-config.js';

const ROUNDS = 20;
/** How long the proxy holds one mount's flag request for the other's before letting it go alone. */
const BARRIER_TIMEOUT_MS = 5_000;

const skip = radosgwAvailability();
logRadosgwSkip(skip);
const skipFuse = skip ?? fuseUnavailableReason();
if (skip === undefined && skipFuse !== undefined) console.log(`skipping the FUSE mount race: ${skipFuse}`);

let server: RadosgwServer;
before(async () => {
  if (skip !== undefined) return;
  server = await startRadosgw({ buckets: ['lease', 'keys'] });
  console.log(`radosgw answered ${server.startupMs} ms after the start (${server.endpoint})`);
});
after(async () => {
  await server?.stop();
});

/**
 * A proxy in front of radosgw that makes two mounts meet on the mounted flag: each GET and each
 * PUT of a `s3backer-mounted` object is held until the other mount sends the same request, then
 * both go on together. So both find no flag, and both PUTs reach radosgw at the same moment:
 * only If-None-Match: * can decide, every round. Requests pass unchanged (Host included), so
 * radosgw's signature check still holds.
 */
async function flagBarrierProxy(): Promise<CountingProxy & { timeouts: () => number }> {
  const waiting = new Map<string, Array<() => void>>();
  let timeouts = 0;
  const proxy = await startCountingProxy(server.endpoint, {
    intercept: async ({ method, url }) => {
      const path = url.split('?')[0]!;
      if (!path.endsWith('/s3backer-mounted') || (method !== 'GET' && method !== 'PUT')) return undefined;
      const key = `${method} ${path}`;
      await new Promise<void>((resolve) => {
        const queue = waiting.get(key) ?? [];
        queue.push(resolve);
        waiting.set(key, queue);
        if (queue.length === 2) {
          waiting.delete(key);
          for (const release of queue) release();
          return;
        }
        setTimeout(() => {
          if (waiting.get(key) !== queue) return;
          waiting.delete(key);
          timeouts++;
          resolve();
        }, BARRIER_TIMEOUT_MS).unref();
      });
      return undefined;
    },
  });
  return Object.assign(proxy, { timeouts: () => timeouts });
}

async function flagExists(bucket: string, key: string): Promise<boolean> {
  const client = radosgwClient(server);
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  } finally {
    client.destroy();
  }
}

const SAME_MOMENT = /was mounted by another s3backer at the same moment/;

test(`mount lease on radosgw: two engines mount one fresh volume at the same moment, ${ROUNDS} rounds: exactly one wins, the other is S3B_MOUNTED_ELSEWHERE by the conditional PUT`, { skip, timeout: 120_000 }, async () => {
  const proxy = await flagBarrierProxy();
  let decidedByPut = 0;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const config = testConfig({
        store: 's3', bucket: 'lease', baseURL: proxy.endpoint, accessId: server.accessId, accessKey: server.accessKey,
        size: 16 * 4096, blockSize: 4096, prefix: `engines-${round}/`, initialRetryPause: 10, maxRetryPause: 1000,
      });
      const engines = [0, 1].map(() => Engine.create(config, [s3Plugin(), retryPlugin(config)]));
      const outcomes = await Promise.allSettled(engines.map((engine) => engine.mount()));
      try {
        const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as Error] : []));
        assert.equal(refusals.length, 1, `round ${round}: ${2 - refusals.length} mounts took the volume (${refusals.map((e) => e.message).join(' / ')})`);
        assert.ok(isS3BackerError(refusals[0], 'S3B_MOUNTED_ELSEWHERE'), `round ${round}: ${refusals[0]!.message}`);
        if (SAME_MOMENT.test(refusals[0]!.message)) decidedByPut++;
      } finally {
        for (const [i, outcome] of outcomes.entries()) if (outcome.status === 'fulfilled') await engines[i]!.shutdown();
      }
      assert.equal(await flagExists('lease', `engines-${round}/s3backer-mounted`), false, `round ${round}: the winner cleared its flag`);
    }
    assert.equal(proxy.timeouts(), 0, 'both mounts reached the flag together every round');
    assert.equal(decidedByPut, ROUNDS, 'every round was decided by If-None-Match: *, none by a flag already there');
    console.log(`engines: ${ROUNDS}/${ROUNDS} rounds exactly one mount, ${decidedByPut}/${ROUNDS} refused by radosgw's 412 on the conditional PUT`);
  } finally {
    await proxy.close();
  }
});

test(`mount lease on radosgw: two s3backer processes mount one fresh volume over FUSE at the same moment, ${ROUNDS} rounds: exactly one mounts, the other exits 1 with S3B_MOUNTED_ELSEWHERE`, { skip: skipFuse, timeout: 300_000 }, async () => {
  const proxy = await flagBarrierProxy();
  const work = await mkdtemp(join(tmpdir(), 's3backer-rgw-lease-'));
  const mountPoints = [join(work, 'a'), join(work, 'b')];
  for (const dir of mountPoints) await mkdir(dir);
  const flags = rgwFlags({ ...server, endpoint: proxy.endpoint });
  let decidedByPut = 0;
  const started = performance.now();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const args = [...flags, '--size=1m', '--blockSize=4k', `lease/processes-${round}`];
      const outcomes = await Promise.allSettled(mountPoints.map((dir) => S3backerProcess.start(dir, args)));
      const winners = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      try {
        const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [String((outcome.reason as Error).message)] : []));
        assert.equal(winners.length, 1, `round ${round}: ${winners.length} processes mounted (${refusals.join(' / ')})`);
        assert.match(refusals[0]!, /exited with 1 before mounting/, `round ${round}`);
        assert.match(refusals[0]!, /\[S3B_MOUNTED_ELSEWHERE\]/, `round ${round}`);
        if (SAME_MOMENT.test(refusals[0]!)) decidedByPut++;
        assert.equal(await winners[0]!.unmount(), 0, `round ${round}: the winner's exit status; output:\n${winners[0]!.output}`);
      } finally {
        for (const winner of winners) await winner.kill();
      }
      assert.equal(await flagExists('lease', `processes-${round}/s3backer-mounted`), false, `round ${round}: the winner cleared its flag`);
    }
    assert.equal(proxy.timeouts(), 0, 'both processes reached the flag together every round');
    assert.equal(decidedByPut, ROUNDS, 'every round was decided by If-None-Match: *');
    console.log(`processes: ${ROUNDS}/${ROUNDS} rounds exactly one mount, ${decidedByPut}/${ROUNDS} refused by radosgw's 412 (${Math.round((performance.now() - started) / ROUNDS)} ms a round)`);
  } finally {
    await proxy.close();
    await rm(work, { recursive: true, force: true });
  }
});

test('wrong keys on radosgw: a mount fails at once with S3B_BACKEND_AUTH naming the key, after one request, no retries', { skip, timeout: 60_000 }, async () => {
  const proxy = await startCountingProxy(server.endpoint);
  const work = await mkdtemp(join(tmpdir(), 's3backer-rgw-keys-'));
  try {
    const cases = [
      { what: 'a wrong secret key (radosgw: SignatureDoesNotMatch)', accessId: server.accessId, accessKey: 'wrong-secret-0000000000000000000000000000' },
      { what: 'an unknown access key (radosgw: InvalidAccessKeyId)', accessId: 'NOSUCHKEY0000000000X', accessKey: server.accessKey },
    ];
    for (const { what, accessId, accessKey } of cases) {
      const before = proxy.requests.length;
      const started = performance.now();
      const result = await runS3backer(['-f', `--baseURL=${proxy.endpoint}`, `--accessId=${accessId}`, `--accessKey=${accessKey}`, '--size=1m', 'keys', work], { timeoutMs: 30_000 });
      const elapsed = performance.now() - started;
      const sent = proxy.requests.slice(before);
      assert.equal(result.code, 1, `${what}: exit status; stderr:\n${result.stderr}`);
      assert.match(result.stderr, /\[S3B_BACKEND_AUTH\]/, what);
      assert.ok(result.stderr.includes(`"${accessId}"`), `${what}: the message names the access key id:\n${result.stderr}`);
      // The first request is the bucket's HEAD: its 403 has no body naming radosgw's error code.
      assert.match(result.stderr, /HTTP 403/, what);
      assert.ok(sent.length <= 2, `${what}: no retry storm, ${sent.length} requests: ${sent.map((r) => `${r.method} ${r.url}`).join(', ')}`);
      // Node's start and the SDK's load are most of it; a single retry pause would already add 200 ms and more.
      assert.ok(elapsed < 10_000, `${what}: exited after ${Math.round(elapsed)} ms`);
      console.log(`${what}: exit 1 after ${Math.round(elapsed)} ms and ${sent.length} request(s) (${sent.map((r) => `${r.method} ${r.url}`).join(', ')})`);
    }
  } finally {
    await proxy.close();
    await rm(work, { recursive: true, force: true });
  }
});
