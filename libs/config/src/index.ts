export { ConfigError, loadConfig, loadConfigOrExit } from './load-config.js';
export { commonConfig, commonLiveConfig, env, grpcServiceConfig, liveConfigSchema } from './fields.js';
export {
  differences,
  LiveConfig,
  startLiveConfigOrExit,
  type LiveConfigLogger,
  type LiveConfigOptions,
  type LiveConfigStats,
  type LiveSnapshot,
  type ReloadResult,
  type ReloadTrigger,
} from './live-config.js';
