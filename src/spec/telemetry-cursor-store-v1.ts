/**
 * Telemetry cursor store specification, version 1: where a telemetry exporter keeps its place in
 * the journal, so an exporter that restarts (or is killed) resumes where its last acknowledged
 * batch left it. Types only. The cursor's shape belongs to the exporter; the store keeps it as
 * JSON and swaps it atomically.
 */
import type { JsonValue, RunStatusV1 } from './store-v1.ts';

/** A run as the tail sees it: enough to tell whether it has events the exporter has not sent. */
export interface ChangedRunV1 {
  id: string;
  /** The time of the run's last event (the run index's `updatedAt`). */
  updatedAt: string;
  lastSeq: number;
  status: RunStatusV1;
}

export interface ChangedRunQueryV1 {
  /** Only runs after this position in (updatedAt, id) order; default the beginning. */
  after?: { updatedAt: string; id: string };
  limit: number;
}

export interface TelemetryCursorStoreV1 {
  readonly telemetryCursorSpecificationVersion: 'v1';
  /** The exporter's cursor, or undefined when it never wrote one. */
  readCursor(exporter: string): Promise<JsonValue | undefined>;
  /**
   * Replaces the exporter's cursor. With `expectedPrevious`, only if the stored cursor is that
   * value (`null`: only if there is none), so two exporters under one name cannot both advance it;
   * returns false when the stored cursor was something else and nothing was written.
   */
  writeCursor(exporter: string, cursor: JsonValue, expectedPrevious?: JsonValue | null): Promise<boolean>;
  /** Runs in ascending (updatedAt, id) order: the order in which their latest events were dated. */
  listChangedRuns(query: ChangedRunQueryV1): Promise<ChangedRunV1[]>;
}
