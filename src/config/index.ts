export { configSchema } from './config-schema.ts';
export type { KeelConfig, RouteSetting } from './config-schema.ts';
export type { McpProxyServerSetting, McpProxySetting, McpProxyToolSetting } from './mcp-proxy-schema.ts';
export { loadConfig, parseConfig } from './load-config.ts';
export { configHash } from './config-hash.ts';
export { buildGovernance } from './build-governance.ts';
export type { BuildGovernanceOptions, BuiltGovernance } from './build-governance.ts';
export { mergePrices } from './merge-prices.ts';
export { webhookAlertHook } from './webhook-alert-hook.ts';
