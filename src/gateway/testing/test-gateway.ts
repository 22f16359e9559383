import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecordV1 } from '../../spec/index.ts';
import type { Gateway, GatewayOptions } from '../gateway.ts';
import { createGateway } from '../gateway.ts';
import { listenGateway } from '../listen-gateway.ts';

export interface TestGateway {
  gateway: Gateway;
  /** `http://127.0.0.1:PORT`, the base of the real clients' `baseURL`. */
  url: string;
  database: string;
  run(runId: string | null): Promise<RunRecordV1>;
  close(): Promise<void>;
}

/**
 * A gateway on a fresh SQLite file, listening on a free loopback port. The environment is empty,
 * so no test can reach a real provider with a real key.
 */
export async function startTestGateway(options: Omit<GatewayOptions, 'store' | 'database'> = {}): Promise<TestGateway> {
  const folder = mkdtempSync(join(tmpdir(), 'keel-gateway-'));
  const database = join(folder, 'keel.db');
  const gateway = await createGateway({ environment: {}, ...options, database });
  const listening = await listenGateway(gateway, { port: 0, host: '127.0.0.1' });
  return {
    gateway,
    url: listening.url,
    database,
    run: async (runId) => {
      if (runId === null) throw new Error('the response named no run (keel-run-id)');
      const run = await gateway.keel.store.getRun(runId);
      if (run === undefined) throw new Error(`no run ${runId}`);
      return run;
    },
    close: async () => {
      try {
        await listening.close();
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}

/** What the built-in price table charges for a `sim:default` call, in micro-USD: $0.50 in, $1.50 out per million. */
export function simDefaultCost(usage: { inputTokens: number; outputTokens: number }): number {
  return Math.ceil((usage.inputTokens * 500_000 + usage.outputTokens * 1_500_000) / 1_000_000);
}
