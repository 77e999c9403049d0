// Example s3backer config file. Copy it to s3backer.config.ts in the directory you run s3backer
// from, or pass it with --config FILE (it may live anywhere, e.g. /etc/s3backer/, read-only).
// Flags on the command line override what is set here.
import { defineConfig, type S3BackerPlugin, type ObjectStore } from 's3backer';

/**
 * A third-party plugin: counts the blocks written, tapping the same hooks the built-ins use.
 * (A codec would tap `encode` at Stage.COMPRESS and `decode.for('its-token')`; a store taps
 * `createStore.for(name)` and returns an ObjectStore, as plugins/memory does.)
 */
function countWrites(): S3BackerPlugin {
  return {
    name: 'example-count-writes',
    apply(engine) {
      let written = 0;
      engine.hooks.blockWritten.tapPromise('example-count-writes', async () => { written++; });
      engine.stats({ lines: () => [['example_blocks_written', String(written)]], reset: () => { written = 0; } });
    },
  };
}

export type { ObjectStore };

export default defineConfig({
  bucket: 'my-bucket',
  prefix: 'disk1/',
  size: '100g',
  blockSize: '1m',
  region: 'eu-west-1',
  accessFile: '/etc/s3backer/passwd',
  plugins: [countWrites()],
});
