import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { S3BackerError, isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';

const config = testConfig({ store: 'memory', size: 1 << 20, blockSize: 4096 });

test('a plugin whose apply() throws: S3B_PLUGIN_ERROR naming the plugin and the hook, the cause kept', () => {
  const broken: S3BackerPlugin = { name: 'acme-codec', apply: () => { throw new TypeError('options.level is undefined'); } };
  assert.throws(() => Engine.create(config, [broken]), (error: unknown) => {
    assert.ok(isS3BackerError(error, 'S3B_PLUGIN_ERROR'), String(error));
    assert.match(error.message, /^plugin "acme-codec" failed in hook "apply": options\.level is undefined; report this to the plugin's author$/);
    assert.equal(error.plugin, 'acme-codec');
    assert.equal(error.hook, 'apply');
    assert.ok(error.cause instanceof TypeError);
    return true;
  });
});

test('an s3backer error from apply() keeps its own code (a plugin refusing its options)', () => {
  const strict: S3BackerPlugin = { name: 'strict', apply: () => { throw new S3BackerError('S3B_CONFIG_INVALID', 'strict: level must be 1-9'); } };
  assert.throws(() => Engine.create(config, [strict]), (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID'));
});
