export type * from './store-v1.ts';
export type * from './model-v1.ts';
export type * from './labels-v1.ts';
