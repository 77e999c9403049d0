export {};
export { defineConfig } from './config/define-config.js';
export type { UserConfig, ConfigEnv } from './config/define-config.js';
