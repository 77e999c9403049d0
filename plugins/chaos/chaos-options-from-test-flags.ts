import type { ResolvedConfig, S3BackerPlugin } from 's3backer';
import type { ChaosOptions } from './chaos-options.js';
import { chaosPlugin } from './chaos-plugin.js';

/** `--test-errors`: 1% of requests, half 500 InternalError and half 503 SlowDown, all retryable. */
export const TEST_ERRORS_RATE = { 500: 0.005, 503: 0.005 } as const;
/** `--test-delays`: uniform 0-200 ms before every request, as C test_io.c sleeps `random() % 200` ms. */
export const TEST_DELAYS = { min: 0, max: 200 } as const;

/**
 * The C tool's test-mode flags as chaos options (undefined when none is set). `--test-errors` does
 * nothing in the C tool (test_io.c's RANDOM_ERROR_PERCENT is 0); ours really fails 1% of requests
 * with retryable errors, so a retry layer is exercised. The seed is random and logged at mount.
 */
export function chaosOptionsFromTestFlags(config: Pick<ResolvedConfig, 'testDelays' | 'testErrors' | 'testDiscard'>): ChaosOptions | undefined {
  if (!config.testDelays && !config.testErrors && !config.testDiscard) return undefined;
  return {
    ...(config.testDelays ? { latency: TEST_DELAYS } : {}),
    ...(config.testErrors ? { errorRate: TEST_ERRORS_RATE } : {}),
    ...(config.testDiscard ? { discard: true } : {}),
  };
}

/** The chaos plugin the test-mode flags ask for, as a list to spread into the plugins (empty when none is set). */
export function chaosFromTestFlags(config: Pick<ResolvedConfig, 'testDelays' | 'testErrors' | 'testDiscard'>): S3BackerPlugin[] {
  const options = chaosOptionsFromTestFlags(config);
  return options === undefined ? [] : [chaosPlugin(options)];
}
