export * from './simulator/index.ts';
export { resolveModel } from './resolve-model.ts';
