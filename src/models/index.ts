export * from './simulator/index.ts';
export * from './governance/index.ts';
export { resolveModel, knownProviders, builtInProviders } from './resolve-model.ts';
export type { ResolveModelOptions } from './resolve-model.ts';
export { createConfiguredModel, credentialHeaders, providerApis } from './configured-provider.ts';
export type { ProviderApi, ProviderSetting } from './configured-provider.ts';
export { ModelCallError, codeForStatus, parseRetryAfter } from './model-call-error.ts';
export type { ModelCallErrorDetails } from './model-call-error.ts';
// Local servers speaking the providers' wire formats, for tests of any component that calls a real adapter.
// How tool-call arguments travel as text on the wire: the gateway speaks the same rule.
export { parseToolArguments, toolArgumentsText } from './openai/tool-payload-text.ts';
// The transport Keel gives the provider SDKs; the benchmarks give the bare SDK the same one.
export { providerFetch } from './provider-fetch.ts';
