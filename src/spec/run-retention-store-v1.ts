/**
 * Run retention store specification, version 1: how a retention job deletes ended runs once their
 * retention period is over (src/redaction/apply-retention.ts). Types only. The job journals a
 * signed retention record naming each run's head before it deletes; the audit verifier accepts a
 * deleted run only when such a record names it (src/audit/retention-records.ts).
 */

/** A run as the retention record named it: deleted only if it still ends there. */
export interface RetainedRunV1 {
  runId: string;
  lastSeq: number;
}

export interface RunRetentionStoreV1 {
  readonly runRetentionSpecificationVersion: 'v1';
  /**
   * Deletes each run's journal and index row, in one transaction, when the run has ended and its
   * head is still `lastSeq` (a run that moved on since it was chosen is left alone). Returns the ids
   * deleted.
   */
  deleteEndedRuns(runs: readonly RetainedRunV1[]): Promise<string[]>;
}
