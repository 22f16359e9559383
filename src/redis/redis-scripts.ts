import { KeelError } from '../errors/index.ts';

/** What the limiter and breaker state need of a client: run a Lua script. */
export interface RedisScripts {
  run(what: string, script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** A Redis failure as Keel's error: one line naming what could not be done and where. */
export function redisFailure(error: unknown, what: string, location: string): KeelError {
  if (error instanceof KeelError) return error;
  const reason = error instanceof Error ? error.message || error.name : String(error);
  return new KeelError('redis-unavailable', `cannot ${what} in Redis at ${location}: ${reason}`, { cause: error });
}
