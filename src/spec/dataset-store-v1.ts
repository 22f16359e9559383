/**
 * Dataset store specification, version 1: evaluation datasets pinned from the journal. Types only.
 * A dataset is written once under its name, with its items and the hash of their content, and is
 * never changed afterwards: an evaluation names a dataset and its hash, so two evaluations of one
 * dataset are of the very same items.
 */
import type { JsonValue } from './store-v1.ts';

export interface DatasetRecordV1 {
  name: string;
  /** Lower-case hex SHA-256 of the canonical JSON of `items`. */
  contentHash: string;
  /** How the items were chosen (task, statuses, time window, labels, limit), as given. */
  definition: JsonValue;
  /** The pinned items, in order. */
  items: JsonValue[];
  /** ISO-8601 UTC. */
  createdAt: string;
}

/** A dataset without its items, for listing. */
export interface DatasetSummaryV1 {
  name: string;
  contentHash: string;
  definition: JsonValue;
  itemCount: number;
  createdAt: string;
}

export interface DatasetStoreV1 {
  readonly datasetSpecificationVersion: 'v1';
  /** Fails with `dataset-exists` when the name is taken; a pinned dataset is never replaced. */
  createDataset(dataset: DatasetRecordV1): Promise<void>;
  /** The dataset with its items, or undefined when there is none by that name. */
  getDataset(name: string): Promise<DatasetRecordV1 | undefined>;
  /** Every dataset, oldest first (the name breaks ties). */
  listDatasets(): Promise<DatasetSummaryV1[]>;
}
