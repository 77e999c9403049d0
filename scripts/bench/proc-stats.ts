// What /proc says about a process: CPU seconds used so far by all its threads (utime + stime of
// /proc/PID/stat: the JS thread, the libuv pool, V8's GC and compiler threads, the FUSE thread)
// and its peak resident set (VmHWM). A phase's CPU is the difference of two samples.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime and stime of a live process, in seconds (resolution 1/CLK_TCK); undefined once it is gone. */
export function cpuTimes(pid: number): { user: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces), counted from field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/** utime + stime of a live process, in seconds; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const times = cpuTimes(pid);
  return times && times.user + times.system;
}

/** A field of /proc/PID/status in MiB (VmHWM: peak RSS; VmRSS: now). */
export function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Start a new peak: VmHWM becomes the current RSS (writing 5 to /proc/PID/clear_refs, Linux ≥ 4.0,
 * root or the process's owner), so the VmHWM read after a step is the peak during that step.
 * False when the kernel refuses (the peak then covers the process's whole life so far).
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Our descendants (children, grandchildren ...) whose command name (`comm`) is `name`: a server a helper started through a wrapper. */
export function descendantPidsNamed(name: string): number[] {
  const parents = new Map<number, number>();
  const comms = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      comms.set(Number(entry), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const isOurs = (pid: number): boolean => {
    for (let at = parents.get(pid), hops = 0; at !== undefined && hops < 64; at = parents.get(at), hops++) if (at === process.pid) return true;
    return false;
  };
  return [...comms].filter(([pid, comm]) => comm === name && isOurs(pid)).map(([pid]) => pid);
}

/** Our own children whose command line contains `needle` (to find the PID of a helper-started server). */
export function childPids(needle: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === process.pid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** CPU seconds the whole machine spent busy (all CPUs; /proc/stat: everything but idle and iowait). */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
  return (total - fields[3]! - fields[4]!) / CLOCK_TICKS;
}

/** CPU of our finished (reaped) children: dd, cp, mkfs ... (cutime + cstime of /proc/self/stat). */
function reapedChildrenSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/**
 * CPU seconds used between construction and `stop()`, and cores = CPU / wall: by the named
 * processes, by this process (`bench`: the raw HTTP client, the bare FUSE server), by the commands
 * it ran (`tools`: dd, cp ..., with the kernel work done in their system calls), and by everything
 * else on the machine (`outside`: other users' processes and kernel threads such as the loop
 * device's workers) — on a shared machine, that last one says how much a figure was disturbed.
 */
export class CpuMeter {
  private readonly before = new Map<number, { user: number; system: number }>();
  private readonly started: bigint;
  private readonly selfBefore = process.cpuUsage();
  private readonly toolsBefore = reapedChildrenSeconds();
  private readonly machineBefore = machineBusySeconds();

  constructor(private readonly pids: Record<string, number>) {
    this.started = process.hrtime.bigint();
    for (const pid of Object.values(pids)) this.before.set(pid, cpuTimes(pid) ?? { user: NaN, system: NaN });
  }

  /** Per name: CPU seconds, cores, and for the named processes the kernel (system) share of the seconds. */
  stop(): { wallSeconds: number; cpu: Record<string, { seconds: number; cores: number; systemSeconds?: number }> } {
    const wallSeconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    const cpu: Record<string, { seconds: number; cores: number; systemSeconds?: number }> = {};
    const add = (name: string, seconds: number) => { cpu[name] = { seconds, cores: seconds / wallSeconds }; };
    for (const [name, pid] of Object.entries(this.pids)) {
      const before = this.before.get(pid)!;
      const after = cpuTimes(pid) ?? { user: NaN, system: NaN };
      add(name, after.user + after.system - before.user - before.system);
      cpu[name]!.systemSeconds = after.system - before.system;
    }
    const self = process.cpuUsage(this.selfBefore);
    add('bench', (self.user + self.system) / 1e6);
    add('tools', reapedChildrenSeconds() - this.toolsBefore);
    const ours = Object.values(cpu).reduce((sum, figure) => sum + (Number.isNaN(figure.seconds) ? 0 : figure.seconds), 0);
    add('machine', machineBusySeconds() - this.machineBefore);
    add('outside', Math.max(0, cpu.machine!.seconds - ours));
    return { wallSeconds, cpu };
  }
}
