// `keel mcp-proxy`: an MCP server fronting upstream MCP servers, every call governed and journaled.
// Loaded only by the command (it brings the MCP SDK's server side); not part of the package root.
export { loadProxyPolicies, McpProxy, mcpProxyTask } from './mcp-proxy.ts';
export { exposedName } from './proxied-tool.ts';
export type { McpProxyOptions, UpstreamStatus } from './mcp-proxy.ts';
export { ProxySession } from './proxy-session.ts';
export type { CallHooks, ProxyCallResult } from './proxy-session.ts';
export { serveStdio } from './serve-stdio.ts';
export { listenHttp } from './serve-http.ts';
export type { HttpListening } from './serve-http.ts';
