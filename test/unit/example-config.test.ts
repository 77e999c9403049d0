import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { resolveConfig } from '../../src/config/merge-config.js';
import { parseArgv } from '../../src/config/parse-argv.js';
import { applyOptions } from '../../src/cli/apply-options.js';
import { Engine } from '../../src/engine/engine.js';

const example = fileURLToPath(new URL('../../../s3backer.config.example.ts', import.meta.url));

test('the example config loads, flags override it, and its third-party plugin counts writes in the stats', async () => {
  const file = await loadConfigFile({ explicitPath: example, cwd: '/', command: 'mount' });
  assert.ok(file);
  assert.equal(file.config.bucket, 'my-bucket');
  const { config, plugins } = resolveConfig({ cli: parseArgv(['--store=memory', '--size=1m', '--blockSize=4k', 'my-bucket', '/tmp/mnt']), file: file.config, filePath: file.filepath });
  assert.equal(config.prefix, 'disk1/');
  assert.equal(config.size, 1 << 20, 'the flag overrides the file\'s 100g');
  assert.equal(config.region, 'eu-west-1');
  const engine = Engine.create(config, applyOptions(config, { plugins }));
  const device = await engine.mount();
  await device.write(0, Buffer.alloc(8192, 1));
  assert.match(engine.stats.render(), /^example_blocks_written\s+2$/m);
  await engine.shutdown();
});
