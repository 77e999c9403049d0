// Progress while the benchmark runs: one line per step, `[elapsed] what ... result`, so a long
// run shows where it is and an interrupted one where it stopped.
import { cleanup } from './cleanup-stack.js';

export const benchStarted = Date.now();

export type Step = <T>(what: string, work: () => Promise<T>, result: (value: T) => string) => Promise<T>;

export function elapsedSeconds(): number {
  return (Date.now() - benchStarted) / 1000;
}

export const step: Step = async (what, work, result) => {
  cleanup.check();
  process.stdout.write(`[${elapsedSeconds().toFixed(1).padStart(6)}s] ${what} ... `);
  const value = await work();
  process.stdout.write(`${result(value)}\n`);
  return value;
};

/** `57.6 MB/s (4.4 s), outside load 0.02 cores`: a figure as the progress lines print it. */
export function describeFigure(figure: { value: number; seconds: number; cpu?: Record<string, { cores: number }> }, unit: string): string {
  const digits = unit === 'MB/s' ? 1 : 0;
  return `${figure.value.toFixed(digits)} ${unit} (${figure.seconds.toFixed(1)} s)${figure.cpu?.outside ? `, outside load ${figure.cpu.outside.cores.toFixed(2)} cores` : ''}`;
}
