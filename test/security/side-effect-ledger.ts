/**
 * What actually happened to the world: every execution of a case tool, in order. The suite counts
 * forbidden and expected effects here, outside the journal, so a figure never rests on the harness
 * reporting on itself.
 */
import type { SideEffectClassV1 } from '../../src/tools/index.ts';

export interface LedgerEntry {
  runId: string;
  tenant: string;
  tool: string;
  sideEffect: SideEffectClassV1;
  /** The arguments the tool ran with, after schema validation. */
  args: Record<string, unknown>;
}

export class SideEffectLedger {
  readonly entries: LedgerEntry[] = [];

  forRun(runId: string): LedgerEntry[] {
    return this.entries.filter((entry) => entry.runId === runId);
  }
}
