import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type FuseClass from 's3backer-vendored-fuse-native';

/**
 * The vendored fuse-native (vendor/fuse-native: 2.2.6 plus the fallocate operation and the
 * onLoopEnded option, built by `npm ci`/`npm run build`). Loaded by path from the package root:
 * this file runs as dist/src/frontends/fuse/fuse-binding.js, four levels below it.
 */
const require = createRequire(import.meta.url);
export const Fuse = require(fileURLToPath(new URL('../../../../vendor/fuse-native/index.js', import.meta.url))) as typeof FuseClass;
export type Fuse = FuseClass;
