import { test } from 'node:test';
import { runCodecConformance } from '../conformance/codec-suite.js';
import { deflatePlugin } from '../../plugins/compress-deflate/index.js';
import { zstdPlugin } from '../../plugins/compress-zstd/index.js';
import { lz4Plugin } from '../../plugins/compress-lz4/index.js';
import { encryptPlugin } from '../../plugins/encrypt-hmac/index.js';
import { testConfig } from '../helpers/test-config.js';

// Every built-in codec, and the chains the option wiring builds, pass the suite third parties run.
const config = (overrides: object) => testConfig({ bucket: 'codec-suite', ...overrides });
const password = 'conformance';

runCodecConformance({ test, name: 'deflate', plugins: () => [deflatePlugin({ encode: true })], encodings: ['deflate'], supports: { integrity: true }, config });
runCodecConformance({ test, name: 'deflate level 9', plugins: () => [deflatePlugin({ encode: true, level: 9 })], encodings: ['deflate'], supports: { integrity: true }, config, blockSizes: [4096] });
// zstd frames as the C tool writes them carry no checksum: a changed literal byte can decode to wrong data.
runCodecConformance({ test, name: 'zstd', plugins: () => [zstdPlugin({ encode: true })], encodings: ['zstd'], supports: { integrity: false }, config });
runCodecConformance({ test, name: 'lz4', plugins: () => [lz4Plugin({ encode: true })], encodings: ['lz4'], supports: { integrity: true }, config });
runCodecConformance({
  test, name: 'deflate + AES-128-CBC', plugins: () => [deflatePlugin({ encode: true }), encryptPlugin({ password })],
  encodings: ['deflate', 'encrypt-AES-128-CBC'], supports: { integrity: true }, config,
});
runCodecConformance({
  test, name: 'zstd + AES-256-CBC', plugins: () => [zstdPlugin({ encode: true }), encryptPlugin({ cipher: 'AES-256-CBC', password })],
  encodings: ['zstd', 'encrypt-AES-256-CBC'], supports: { integrity: true }, config, blockSizes: [4096],
});
