import { S3BackerError } from 's3backer';

export interface TransferSpeeds {
  /** Bits per second (`--maxUploadSpeed`). */
  maxUploadSpeed?: number | undefined;
  /** Bits per second (`--maxDownloadSpeed`). */
  maxDownloadSpeed?: number | undefined;
  /** Seconds (`--timeout`). */
  timeout: number;
}

/**
 * The C tool's startup check (s3b_config.c `validate_config`): at a speed cap, one block must
 * move within one attempt's `--timeout`, or every transfer of a block would time out. Refused
 * when `blockSize / (speed / 8) >= timeout`, as there. The C tool checks only a `--blockSize`
 * given on the command line; the plugin also checks the block size auto-detected at mount.
 */
export function checkTransferSpeeds(speeds: TransferSpeeds, blockSize: number): void {
  for (const [flag, speed] of [['--maxUploadSpeed', speeds.maxUploadSpeed], ['--maxDownloadSpeed', speeds.maxDownloadSpeed]] as const) {
    if (speed === undefined) continue;
    // Whole bytes per second, as the C tool hands libcurl (value / 8); under 8 bits/s that is none.
    const bytesPerSecond = Math.floor(speed / 8);
    if (bytesPerSecond < 1) {
      throw new S3BackerError('S3B_CONFIG_INVALID', `${flag}=${speed} bits/s is less than a byte per second; give a speed in bits per second of at least 8 (e.g. 10m), or leave it out`);
    }
    // Integer division, as in the C tool.
    const seconds = Math.floor(blockSize / bytesPerSecond);
    if (seconds >= speeds.timeout) {
      throw new S3BackerError('S3B_CONFIG_INVALID',
        `--timeout=${speeds.timeout} s is too short for one ${blockSize}-byte block at ${flag}=${speed} bits/s (${(blockSize / bytesPerSecond).toFixed(1)} s); raise ${flag} or --timeout, or use a smaller --blockSize`);
    }
  }
}
