// Local servers that speak the providers' real wire formats, for tests and benchmarks only: not part
// of the package's runtime surface (the lint rule lets only tests and bench/ import this entry).
export { OpenAIWireServer } from '../openai/testing/openai-wire-server.ts';
export { AnthropicWireServer } from '../anthropic/testing/anthropic-wire-server.ts';
