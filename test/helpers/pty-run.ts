import { runCommand, type CommandResult } from './run-command.js';

/**
 * Run a command on a pseudo-terminal (Python's pty module: CI installs python3 for node-gyp) and
 * answer `prompt` with `answer` + Enter, as a person at a terminal would. Resolves when the
 * command exits; `stdout` is everything the terminal showed.
 */
export function runOnTerminal(argv: readonly string[], prompt: string, answer: string, timeoutMs = 60_000): Promise<CommandResult> {
  const script = `
import os, pty, select, sys, time
argv, prompt, answer, timeout = sys.argv[1:-3], sys.argv[-3].encode(), sys.argv[-2].encode(), float(sys.argv[-1])
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
shown, answered, deadline = b'', False, time.time() + timeout
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    shown += data
    if not answered and prompt in shown:
        os.write(fd, answer + b'\\r')
        answered = True
else:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode(errors='replace'))
sys.exit(os.waitstatus_to_exitcode(status) & 0xff)
`;
  return runCommand('python3', ['-c', script, ...argv, prompt, answer, String(timeoutMs / 1000)], { timeoutMs: timeoutMs + 10_000 });
}
