/** A plugin's counters for the stats file, printed as the C tool prints them. */
export interface StatsProvider {
  /** `[name, value]` pairs in print order, e.g. `['http_gets', '12']`. */
  lines(): Array<[string, string]>;
  /** Unlinking the stats file resets counters (sizes of caches are not reset, as in the C tool). */
  reset(): void;
}

export class StatsRegistry {
  private readonly providers: StatsProvider[] = [];

  register(provider: StatsProvider): void {
    this.providers.push(provider);
  }

  /** The C tool's format: `printf("%-28s %s\n", name, value)` per line. */
  render(): string {
    let text = '';
    for (const provider of this.providers) {
      for (const [name, value] of provider.lines()) text += `${name.padEnd(28)} ${value}\n`;
    }
    return text;
  }

  reset(): void {
    for (const provider of this.providers) provider.reset();
  }
}

/** An average as the C tool prints it: `%.3f sec`. */
export function formatSeconds(totalMs: number, count: number): string {
  return `${(count === 0 ? 0 : totalMs / count / 1000).toFixed(3)} sec`;
}
