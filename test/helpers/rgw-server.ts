import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, open, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/**
 * A throwaway Ceph cluster with radosgw on 127.0.0.1: a real S3 implementation for the tests,
 * which checks SigV4 signatures and honours conditional requests (If-Match, If-None-Match: *)
 * and ListObjects paging, where s3rver does not.
 */
export interface RadosgwServer {
  /** `http://127.0.0.1:PORT/` */
  endpoint: string;
  port: number;
  /** The S3 user's keys (random per server: radosgw verifies the signature made with them). */
  accessId: string;
  accessKey: string;
  region: 'us-east-1';
  /** The cluster's directory: `ceph.conf`, `log/` (one log per daemon), `run/` (pid files). */
  directory: string;
  /** ms from the call to startRadosgw until radosgw answered HTTP. */
  startupMs: number;
  /** Create a bucket (a SigV4-signed S3 CreateBucket with the user's keys). */
  createBucket(name: string): Promise<void>;
  /** Kill the daemons (by the PIDs in their pid files) and remove the directory. */
  stop(): Promise<void>;
}

export interface RadosgwOptions {
  /** Buckets to create once radosgw answers. */
  buckets?: string[];
  /** Bytes the memstore OSD may hold in RAM (all objects live there). Default 1 GiB. */
  memstoreBytes?: number;
}

/** The flags that point s3backer's command line at `server`: its endpoint and its keys. */
export function rgwFlags(server: RadosgwServer): string[] {
  return [`--baseURL=${server.endpoint}`, `--accessId=${server.accessId}`, `--accessKey=${server.accessKey}`];
}

/** An SDK client with the server's keys, for looking at (or changing) a bucket behind a mount's back. */
export function radosgwClient(server: RadosgwServer): S3Client {
  return new S3Client({
    endpoint: server.endpoint, region: server.region, forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: server.accessId, secretAccessKey: server.accessKey },
    // Buffer bodies without checksum trailers: radosgw 16.2 refuses aws-chunked uploads with 411.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The Debian packages that bring every program below (ceph-common and ceph-base come with them). */
export const RADOSGW_PACKAGES = 'ceph-mon ceph-osd radosgw';
const PROGRAMS = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph'] as const;

/**
 * Why radosgw tests cannot run here, or undefined when they can: a test passes it as `skip`, and
 * prints it, so a machine without Ceph says so instead of passing silently.
 */
export function radosgwAvailability(): string | undefined {
  const missing = PROGRAMS.filter((program) => findProgram(program) === undefined);
  if (missing.length === 0) return undefined;
  return `radosgw not installed (${missing.join(', ')} not found): apt-get install --no-install-recommends ${RADOSGW_PACKAGES}`;
}

/** Print the reason a radosgw test file skips (node:test shows `# SKIP` too, but only per test). */
export function logRadosgwSkip(reason: string | undefined): void {
  if (reason !== undefined) console.log(`skipping radosgw tests: ${reason}`);
}

function findProgram(name: string): string | undefined {
  // Root's PATH has the sbin directories; a test run under another user's may not.
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/bin', '/usr/bin', '/usr/sbin', '/bin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this one
    }
  }
  return undefined;
}

const COMMAND_TIMEOUT_MS = 30_000;
const OSD_UP_TIMEOUT_MS = 60_000;
const HTTP_TIMEOUT_MS = 30_000;
/** The daemons' `comm` names: stop() signals a PID only while it still is one of them. */
const DAEMON_NAMES = new Set(['ceph-mon', 'ceph-osd', 'radosgw']);
/** Daemons of every server still running, killed when the test process exits without stop(). */
const running = new Set<string>();
let exitHookInstalled = false;

/**
 * A single-node cluster in a fresh temp directory: one monitor, one memstore OSD (objects in
 * RAM), no manager, `auth none` inside the cluster, and radosgw (beast) with one S3 user. Every
 * port is picked free (the OSD takes the first free ones of Ceph's 6800-7300 range itself). Takes
 * about 1 s on a 2-core machine (0.8-1.3 s measured; 2-3 s when other work keeps both cores
 * busy). A daemon that fails rejects with its log file named and its tail quoted; the directory
 * is then kept for a look.
 */
export async function startRadosgw(options: RadosgwOptions = {}): Promise<RadosgwServer> {
  const reason = radosgwAvailability();
  if (reason !== undefined) throw new Error(reason);
  const started = performance.now();
  const directory = await mkdtemp(join(tmpdir(), 's3backer-rgw-'));
  const conf = join(directory, 'ceph.conf');
  const [monV2, monV1, port] = await freePorts(3);
  const accessId = `S3B${randomBytes(9).toString('hex').toUpperCase().slice(0, 17)}`;
  const accessKey = randomBytes(20).toString('hex');
  const cluster = new Cluster(directory, conf);
  installExitHook();
  running.add(directory);
  try {
    for (const sub of ['mon/ceph-a', 'osd/ceph-0', 'run', 'log', 'rgw', 'crash']) await mkdir(join(directory, sub), { recursive: true });
    const fsid = randomUUID();
    await writeFile(conf, cephConf({ directory, fsid, monV2: monV2!, monV1: monV1!, port: port!, memstoreBytes: options.memstoreBytes ?? 1 << 30 }));

    const monHost = `[v2:127.0.0.1:${monV2},v1:127.0.0.1:${monV1}]`;
    await cluster.run('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', monHost, join(directory, 'monmap')]);
    await cluster.run('ceph-mon', ['-c', conf, '-i', 'a', '--mkfs', '--monmap', join(directory, 'monmap')], 'mon.a');
    await cluster.daemon('ceph-mon', ['-c', conf, '-i', 'a'], 'mon.a');

    const osdUuid = randomUUID();
    // The first call also waits for the monitor to form its quorum of one.
    const osdId = (await cluster.run('ceph', ['-c', conf, '--connect-timeout', '20', 'osd', 'new', osdUuid], 'mon.a')).trim();
    if (!/^\d+$/.test(osdId)) throw new Error(`"ceph osd new" printed "${osdId}", not an OSD id; see ${cluster.log('mon.a')}`);
    await cluster.run('ceph-osd', ['-c', conf, '-i', osdId, '--mkfs', '--osd-uuid', osdUuid], `osd.${osdId}`);
    await cluster.daemon('ceph-osd', ['-c', conf, '-i', osdId], `osd.${osdId}`);
    await cluster.waitForOsd(osdId);

    // radosgw-admin creates the default realm, zonegroup, zone and their pools on the way.
    await cluster.run('radosgw-admin', ['-c', conf, '-n', 'client.rgw.a', 'user', 'create', '--uid=s3backer-test', '--display-name=s3backer test',
      `--access-key=${accessId}`, `--secret=${accessKey}`], 'client.rgw.a');
    // Unlike the monitor's and the OSD's, radosgw's parent returns right after the fork, before
    // the daemon has written its pid file or reached the cluster: waitForHttp waits for both.
    await cluster.daemon('radosgw', ['-c', conf, '-n', 'client.rgw.a'], 'client.rgw.a');
    await waitForHttp(port!, cluster, 'client.rgw.a');
  } catch (error) {
    await killDaemons(directory);
    running.delete(directory);
    throw new Error(`radosgw did not start (the cluster's directory ${directory} is kept, with its logs in ${join(directory, 'log')}): ${(error as Error).message}`, { cause: error });
  }

  const server: RadosgwServer = {
    endpoint: `http://127.0.0.1:${port}/`,
    port: port!,
    accessId,
    accessKey,
    region: 'us-east-1',
    directory,
    startupMs: Math.round(performance.now() - started),
    createBucket: async (name) => {
      const client = radosgwClient(server);
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
    },
    stop: () => (stopped ??= (async () => {
      await killDaemons(directory);
      running.delete(directory);
      await rm(directory, { recursive: true, force: true });
    })()),
  };
  let stopped: Promise<void> | undefined;
  try {
    for (const bucket of options.buckets ?? []) await server.createBucket(bucket);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** Runs the cluster's programs, with time limits and errors that point at the right log. */
class Cluster {
  constructor(readonly directory: string, private readonly conf: string) {}

  log(name: string): string {
    return join(this.directory, 'log', `${name}.log`);
  }

  /** A program that runs to completion; resolves to its stdout. */
  run(program: string, args: string[], daemon?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(findProgram(program) ?? program, args, { timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
        if (!error) {
          resolve(stdout);
          return;
        }
        const why = error.killed ? `was killed after ${COMMAND_TIMEOUT_MS} ms` : `failed (${error.code ?? error.signal})`;
        reject(new Error(`${program} ${args.join(' ')} ${why}: ${String(stderr).trim() || String(stdout).trim()}${daemon ? this.logTail(daemon) : ''}`));
      });
    });
  }

  /**
   * A daemon: it forks, and its parent exits (ceph-mon's and ceph-osd's once the daemon is
   * initialised or failed to). Its stderr goes to `log/<name>.stderr`, never a pipe the daemon
   * would keep open.
   */
  async daemon(program: string, args: string[], name: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<void> {
    const stderrFile = join(this.directory, 'log', `${name}.stderr`);
    const file = await open(stderrFile, 'a');
    try {
      await new Promise<void>((resolve, reject) => {
        const child = spawn(findProgram(program) ?? program, args, { stdio: ['ignore', file.fd, file.fd] });
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${program} did not finish starting within ${timeoutMs} ms${this.logTail(name)}`));
        }, timeoutMs);
        child.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          if (code === 0) resolve();
          else reject(new Error(`${program} ${args.join(' ')} exited with ${code ?? signal}${tail(stderrFile, 'its stderr')}${this.logTail(name)}`));
        });
      });
    } finally {
      await file.close();
    }
  }

  /** Polls the OSD map until the OSD is up: radosgw needs it to create its pools. */
  async waitForOsd(id: string): Promise<void> {
    const deadline = Date.now() + OSD_UP_TIMEOUT_MS;
    const up = new RegExp(`^osd\\.${id} up`, 'm');
    for (;;) {
      const dump = await this.run('ceph', ['-c', this.conf, '--connect-timeout', '10', 'osd', 'dump'], 'mon.a').catch(() => '');
      if (up.test(dump)) return;
      if (!pidAlive(join(this.directory, 'run', `osd.${id}.pid`), 'ceph-osd')) {
        throw new Error(`the OSD died after it started${this.logTail(`osd.${id}`)}`);
      }
      if (Date.now() > deadline) throw new Error(`osd.${id} was not up within ${OSD_UP_TIMEOUT_MS} ms${this.logTail(`osd.${id}`)}`);
      await sleep(100);
    }
  }

  /** `; log <path> ends: ...`: the daemon's own account of why. */
  logTail(name: string): string {
    return tail(this.log(name), 'log');
  }
}

/** `; <what> <path> ends:` and its last lines, the lines that usually say why. */
function tail(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trimEnd();
  } catch {
    return `; ${what} ${path} does not exist`;
  }
  if (text === '') return `; ${what} ${path} is empty`;
  return `; ${what} ${path} ends:\n${text.split('\n').slice(-15).join('\n')}`;
}

/**
 * Until radosgw answers HTTP. It has died when its pid file names a process that is gone (no pid
 * file yet is a daemon still on its way); the time limit covers the rest, such as a radosgw
 * that never reaches the cluster (it would wait 300 s, rgw_init_timeout).
 */
async function waitForHttp(port: number, cluster: Cluster, name: string): Promise<void> {
  const deadline = Date.now() + HTTP_TIMEOUT_MS;
  const pidFile = join(cluster.directory, 'run', `${name}.pid`);
  for (;;) {
    if (await answers(port)) return;
    if (existsSync(pidFile) && !pidAlive(pidFile, 'radosgw')) {
      throw new Error(`radosgw died after it started${cluster.logTail(name)}`);
    }
    if (Date.now() > deadline) throw new Error(`radosgw did not answer http://127.0.0.1:${port}/ within ${HTTP_TIMEOUT_MS} ms${cluster.logTail(name)}`);
    await sleep(50);
  }
}

/** An anonymous `GET /` (list buckets): radosgw answers 200 with an empty list once it serves. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** `count` distinct ports nobody listens on now: bound to port 0 together, then released. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** The PID in `pidFile` when that process is still the daemon `comm` names. */
function daemonPid(pidFile: string, comm?: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return (comm === undefined ? DAEMON_NAMES.has(name) : name === comm) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Ceph daemons whose command line holds `-c <conf>`: only this cluster's, the path is a fresh temp directory. */
function daemonsUsing(conf: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!DAEMON_NAMES.has(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((arg, i) => arg === '-c' && args[i + 1] === conf)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function pidAlive(pidFile: string, comm: string): boolean {
  return daemonPid(pidFile, comm) !== undefined;
}

/**
 * SIGKILL this cluster's daemons, by the PIDs in their pid files, each only while its /proc comm is
 * still a Ceph daemon's; waits until they are gone. KILL, not TERM: the cluster is thrown away,
 * and a TERMed memstore OSD first writes every object to disk, a TERMed radosgw drains for seconds.
 * A radosgw stopped during startup may not have written its pid file yet: it is found by its
 * command line, which names this cluster's own ceph.conf.
 */
async function killDaemons(directory: string): Promise<void> {
  const pids = killDaemonsNow(directory);
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(20);
}

function killDaemonsNow(directory: string): number[] {
  const pids: number[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(join(directory, 'run')).filter((name) => name.endsWith('.pid'));
  } catch {
    // no run directory: nothing was started
  }
  // radosgw first, the monitor last: nothing is left waiting for a daemon already gone.
  const order = (name: string) => (name.startsWith('client.') ? 0 : name.startsWith('osd.') ? 1 : 2);
  const targets = files.sort((a, b) => order(a) - order(b)).map((file) => daemonPid(join(directory, 'run', file)));
  for (const pid of new Set([...targets, ...daemonsUsing(join(directory, 'ceph.conf'))])) {
    if (pid === undefined) continue;
    try {
      process.kill(pid, 'SIGKILL');
      pids.push(pid);
    } catch {
      // already gone
    }
  }
  return pids;
}

/** Still running: a killed daemon stays a zombie until PID 1 reaps it, which a container's may do late. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A test file that ends without stop() (a failed before hook, an exception) leaves no daemon behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const directory of running) killDaemonsNow(directory);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ConfValues {
  directory: string;
  fsid: string;
  monV2: number;
  monV1: number;
  port: number;
  memstoreBytes: number;
}

/**
 * The whole cluster on 127.0.0.1, in `directory`, with no authentication inside it (`auth none`
 * needs every messenger mode at `crc`, or the monitor client retries auth forever), one copy of
 * everything, small placement-group counts, and logs kept quiet; radosgw's background threads
 * (garbage collection, lifecycle, quotas) are off: nothing here outlives a test file.
 */
function cephConf(v: ConfValues): string {
  const d = v.directory;
  const quiet = ['ms', 'mon', 'paxos', 'osd', 'rgw', 'memstore', 'objecter', 'rados', 'monc', 'auth', 'objclass', 'filestore', 'bluestore',
    'asok', 'finisher', 'context', 'optracker', 'throttle', 'perfcounter', 'timer', 'crush', 'mgrc', 'journaler'];
  return `[global]
fsid = ${v.fsid}
mon initial members = a
mon host = [v2:127.0.0.1:${v.monV2},v1:127.0.0.1:${v.monV1}]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms mon client mode = crc
run dir = ${d}/run
pid file = ${d}/run/$name.pid
admin socket = ${d}/run/$name.asok
log file = ${d}/log/$name.log
log to stderr = false
err to stderr = true
mon cluster log file = ${d}/log/cluster.log
crash dir = ${d}/crash
keyring = /dev/null
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
paxos propose interval = 0.01
paxos min wait = 0.001
osd objectstore = memstore
memstore device bytes = ${v.memstoreBytes}
osd op tracker = false
${quiet.map((subsystem) => `debug ${subsystem} = 0/0`).join('\n')}

[mon]
mon data = ${d}/mon/$cluster-$id

[osd]
osd data = ${d}/osd/$cluster-$id
osd journal = ${d}/osd/$cluster-$id/journal
osd max object name len = 460
osd max object namespace len = 64

[client.rgw.a]
rgw data = ${d}/rgw
rgw frontends = beast endpoint=127.0.0.1:${v.port} tcp_nodelay=1
rgw dns name = localhost
rgw thread pool size = 64
rgw dynamic resharding = false
rgw enable usage log = false
rgw enable gc threads = false
rgw enable lc threads = false
rgw enable quota threads = false
rgw max chunk size = 4194304
`;
}

