import { Engine } from '../engine/engine.js';
import { stderrSink, type LogSink } from '../engine/logger.js';
import { applyOptions } from './apply-options.js';
import type { ResolvedConfig } from '../config/resolved-config.js';
import type { S3BackerPlugin } from '../engine/plugin.js';
import type { PluginOptionValues } from '../config/merge-config.js';

/**
 * An engine with the built-in and configured plugins, logging to stderr as the C tool does in the
 * foreground; `pluginOptions` are the values of the options the plugins declare (ResolvedCommandLine).
 */
export function createEngine(config: ResolvedConfig, plugins: readonly S3BackerPlugin[], log: LogSink = stderrSink({ debug: config.debug, quiet: config.quiet }),
  pluginOptions: PluginOptionValues = {}): Engine {
  return Engine.create(config, applyOptions(config, { plugins }), { log, pluginOptions });
}

/** An engine for maintenance commands (erase, reset the mounted flag): the store only, no codecs (and so no password). */
export function createMaintenanceEngine(config: ResolvedConfig, plugins: readonly S3BackerPlugin[], log: LogSink = stderrSink({ debug: config.debug, quiet: config.quiet }),
  pluginOptions: PluginOptionValues = {}): Engine {
  return Engine.create(config, applyOptions(config, { codecs: false, plugins }), { log, pluginOptions });
}
