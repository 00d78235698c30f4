export { ConfigError, loadConfig, loadConfigOrExit } from './load-config.js';
export { commonConfig, env, grpcServiceConfig } from './fields.js';
