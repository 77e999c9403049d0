import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCertificate, type TestCertificate } from '../helpers/test-certificate.js';
import { serveVolume, type ServedVolume } from '../helpers/nbd-served-volume.js';
import { CMD, OPT, RawNbdClient, REP } from '../helpers/nbd-raw-client.js';
import { runCommand } from '../helpers/run-command.js';
import { missingToolsReason } from '../helpers/nbd-tools.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { NbdFrontend } from '../../src/frontends/nbd/nbd-frontend.js';
import { createLogger } from '../../src/engine/logger.js';

interface TlsSetup {
  certificate: TestCertificate;
  work: string;
  /** A libnbd / qemu certificate directory trusting our certificate (ca-cert.pem). */
  trusting: string;
  /** One trusting another CA. */
  distrusting: string;
  volume: ServedVolume;
}

async function tlsVolume(t: { skip(message?: string): void }, transport: 'unix' | 'tcp' = 'unix'): Promise<TlsSetup | undefined> {
  const certificate = await makeTestCertificate();
  if (typeof certificate === 'string') {
    console.log(`skipping: ${certificate}`);
    t.skip(certificate);
    return undefined;
  }
  const work = await mkdtemp(join(tmpdir(), 's3b-nbd-tls-'));
  const key = join(work, 'server-key.pem');
  await writeFile(key, certificate.key, { mode: 0o600 });
  const trusting = join(work, 'trusting');
  const distrusting = join(work, 'distrusting');
  await mkdir(trusting);
  await mkdir(distrusting);
  await copyFile(certificate.certFile, join(trusting, 'ca-cert.pem'));
  await copyFile(certificate.otherCertFile, join(distrusting, 'ca-cert.pem'));
  const volume = await serveVolume({ transport, frontend: { tls: { cert: certificate.certFile, key } } });
  return { certificate, work, trusting, distrusting, volume };
}

async function cleanUp(setup: TlsSetup): Promise<void> {
  await setup.volume.stop();
  await setup.certificate.remove();
  await rm(setup.work, { recursive: true, force: true });
}

test('TLS required: every option but STARTTLS and ABORT gets NBD_REP_ERR_TLS_REQD; NBD_OPT_EXPORT_NAME without TLS is a close', { timeout: 20_000 }, async (t) => {
  const setup = await tlsVolume(t);
  if (!setup) return;
  const clients: RawNbdClient[] = [];
  try {
    const client = await RawNbdClient.connect(setup.volume.connectTo);
    clients.push(client);
    await client.greet();
    client.sendClientFlags(3);
    for (const [option, data] of [[OPT.GO, RawNbdClient.infoRequest('', [])], [OPT.INFO, RawNbdClient.infoRequest('', [])], [OPT.LIST, Buffer.alloc(0)], [OPT.STRUCTURED_REPLY, Buffer.alloc(0)], [99, Buffer.alloc(3)]] as const) {
      client.sendOption(option, data);
      const reply = await client.readOptionReply();
      assert.equal(reply.type, REP.ERR_TLS_REQD, `option ${option} before STARTTLS`);
    }
    client.sendOption(OPT.STARTTLS, Buffer.from('x'));
    assert.equal((await client.readOptionReply()).type, REP.ERR_INVALID, 'STARTTLS takes no data');
    client.sendOption(OPT.ABORT);
    assert.equal((await client.readOptionReply()).type, REP.ACK);

    const blunt = await RawNbdClient.connect(setup.volume.connectTo);
    clients.push(blunt);
    await blunt.greet();
    blunt.sendClientFlags(3);
    blunt.sendOption(OPT.EXPORT_NAME, Buffer.alloc(0));
    assert.equal(await blunt.closesWithin(), true);

    // A client that answers the STARTTLS ACK with garbage instead of a TLS hello is dropped.
    const garbage = await RawNbdClient.connect(setup.volume.connectTo);
    clients.push(garbage);
    await garbage.greet();
    garbage.sendClientFlags(3);
    garbage.sendOption(OPT.STARTTLS);
    assert.equal((await garbage.readOptionReply()).type, REP.ACK);
    garbage.write(Buffer.from('this is not a TLS ClientHello\r\n\r\n'));
    assert.equal(await garbage.closesWithin(), true);
  } finally {
    for (const client of clients) client.destroy();
    await cleanUp(setup);
  }
  assert.ok(setup.volume.logLines.some((line) => /WARN .*failed the TLS handshake/.test(line)));
});

test('STARTTLS from node:tls: the upgraded connection negotiates and serves; a second STARTTLS is invalid', { timeout: 20_000 }, async (t) => {
  const setup = await tlsVolume(t);
  if (!setup) return;
  const client = await RawNbdClient.connect(setup.volume.connectTo);
  try {
    await client.greet();
    client.sendClientFlags(3);
    client.sendOption(OPT.STARTTLS);
    assert.equal((await client.readOptionReply()).type, REP.ACK);
    const secure = await client.startTls(setup.certificate.cert);
    assert.ok(secure.authorized, 'the client verified the server certificate');
    client.sendOption(OPT.STARTTLS);
    assert.equal((await client.readOptionReply()).type, REP.ERR_INVALID, 'TLS is already active');
    client.sendOption(OPT.STRUCTURED_REPLY);
    assert.equal((await client.readOptionReply()).type, REP.ACK);
    assert.equal((await client.go('')).size, BigInt(64 << 20));
    const data = Buffer.from('encrypted on the wire');
    client.request(CMD.WRITE, 12345, data.length, { data });
    assert.equal((await client.readReply()).error, 0);
    client.request(CMD.READ, 12345, data.length);
    assert.ok((await client.readReply()).data?.equals(data));
    await client.disconnect();
  } finally {
    client.destroy();
    await cleanUp(setup);
  }
});

test('TLS with real clients: nbdinfo and qemu-io verify the certificate and work; a client trusting another CA, or without TLS, is refused', { timeout: 30_000 }, async (t) => {
  const missing = missingToolsReason(['nbdinfo', 'qemu-io']);
  if (missing) {
    console.log(`skipping: ${missing}`);
    t.skip(missing);
    return;
  }
  // Over TCP: libnbd verifies the server's certificate only for TCP servers.
  const setup = await tlsVolume(t, 'tcp');
  if (!setup) return;
  const { port } = setup.volume.connectTo as { port: number };
  try {
    const secureUri = (dir: string) => `nbds://localhost:${port}/test-volume?tls-certificates=${dir}`;
    const info = await runCommand('nbdinfo', ['--json', secureUri(setup.trusting)], { timeoutMs: 20_000 });
    assert.equal(info.code, 0, info.stderr);
    const report = JSON.parse(info.stdout) as { TLS: boolean; exports: Array<Record<string, unknown>> };
    assert.equal(report.TLS, true);
    assert.equal(report.exports[0]!['export-size'], 64 << 20);

    const distrusted = await runCommand('nbdinfo', ['--json', secureUri(setup.distrusting)], { timeoutMs: 20_000 });
    assert.notEqual(distrusted.code, 0, 'a client that does not trust the certificate fails');
    assert.match(distrusted.stderr, /certificate|verif/i, distrusted.stderr);
    const plain = await runCommand('nbdinfo', ['--json', setup.volume.uri], { timeoutMs: 20_000 });
    assert.notEqual(plain.code, 0, 'a client without TLS is refused');

    const qemu = await runCommand('qemu-io', [
      '--object', `tls-creds-x509,id=tls0,dir=${setup.trusting},endpoint=client`,
      '--image-opts', `driver=nbd,server.type=inet,server.host=127.0.0.1,server.port=${port},export=test-volume,tls-creds=tls0,tls-hostname=localhost`,
      '-c', 'write -P 0x5a 1000 100000', '-c', 'read -P 0x5a 1000 100000',
    ], { timeoutMs: 20_000 });
    assert.equal(qemu.code, 0, `${qemu.stdout}${qemu.stderr}`);
    assert.doesNotMatch(qemu.stdout, /failed/i);
  } finally {
    await cleanUp(setup);
  }
});

test('TLS files that cannot be read fail start() with S3B_CONFIG_INVALID naming the file', { timeout: 10_000 }, async () => {
  const frontend = new NbdFrontend({
    listen: `unix:${join(tmpdir(), `s3b-nbd-never-${process.pid}.sock`)}`, exportName: 'x', log: createLogger(() => {}, 'nbd'),
    tls: { cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' },
  });
  const device = { size: 1 << 20, readOnly: false, geometry: { blockSize: 4096 } } as unknown as Parameters<NbdFrontend['start']>[0];
  await assert.rejects(frontend.start(device), (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && /\/nonexistent\/cert\.pem/.test((error as Error).message));
  await frontend.closed;
});
