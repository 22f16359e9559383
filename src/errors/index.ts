export { KeelError, toErrorData } from './keel-error.ts';
export type { ErrorData, KeelErrorOptions } from './keel-error.ts';
export { errorCodes, isErrorCode } from './codes.ts';
export type { ErrorCode } from './codes.ts';
