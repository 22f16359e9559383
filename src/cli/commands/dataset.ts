import { writeFileSync } from 'node:fs';
import { KeelError } from '../../errors/index.ts';
import {
  checkDatasetName,
  createDataset,
  datasetStoreOf,
  exportLines,
  parseExportFormat,
  parseKind,
  parseSince,
  parseStatuses,
  parseWhere,
  readDataset,
} from '../../evaluation/index.ts';
import type { DatasetDefinition, DatasetItem } from '../../evaluation/index.ts';
import type { StoreV1 } from '../../spec/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { printJson } from '../command.ts';
import { table, truncate } from '../format/text.ts';

async function withStore<T>(context: CommandContext, access: 'read' | 'write', work: (store: StoreV1) => Promise<T>): Promise<T> {
  const store = await openStore({ database: context.options.db, create: false, readOnly: access === 'read', environment: context.environment });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/**
 * `keel dataset create NAME --task T [--kind …] [--status …] [--since 30d] [--where label=…]
 * [--limit N]`: pins the matching recorded runs (or their model or tool decisions) under the hash
 * of their content. Everything is checked before the database is opened.
 */
export const datasetCreateCommand: Command = async (context) => {
  const name = checkDatasetName(context.positionals[0] ?? '');
  const task = context.options.task;
  if (task === undefined) throw new KeelError('usage-invalid', 'keel dataset create needs --task T: the task whose recorded runs it pins');
  const sinceMs = context.options.since === undefined ? undefined : parseSince(context.options.since);
  const definition: DatasetDefinition = {
    task,
    kind: parseKind(context.options.kind),
    statuses: parseStatuses(context.options.status),
    since: sinceMs === undefined ? null : new Date(Date.now() - sinceMs).toISOString(),
    where: parseWhere(context.options.where),
    limit: context.options.limit === undefined ? null : Number(context.options.limit),
  };
  return withStore(context, 'write', async (store) => {
    const record = await createDataset(store, { name, definition });
    if (context.options.json) printJson(context, { database: store.location, name: record.name, contentHash: record.contentHash, items: record.items.length, definition: record.definition, createdAt: record.createdAt });
    else context.output.stdout(`pinned dataset ${record.name}: ${record.items.length} ${definition.kind === 'run' ? 'runs' : 'decisions'} of ${task}, content ${record.contentHash}\n`);
    return 0;
  });
};

/** `keel dataset list`: every pinned dataset, oldest first. Reads only. */
export const datasetListCommand: Command = async (context) =>
  withStore(context, 'read', async (store) => {
    const datasets = await datasetStoreOf(store).listDatasets();
    if (context.options.json) {
      printJson(context, { database: store.location, datasets });
      return 0;
    }
    if (datasets.length === 0) {
      context.output.stdout(`no datasets in ${store.location} (keel dataset create NAME --task T pins one)\n`);
      return 0;
    }
    const rows = datasets.map((dataset) => {
      const definition = dataset.definition as unknown as DatasetDefinition;
      return [dataset.name, `${dataset.itemCount} items`, definition.task, definition.kind, dataset.contentHash.slice(0, 12), dataset.createdAt];
    });
    context.output.stdout(`${table(rows, [20, 11, 18, 10, 13, 24])}\n`);
    return 0;
  });

/** `keel dataset show NAME`: the dataset's definition, hash and items. Reads only. */
export const datasetShowCommand: Command = async (context) =>
  withStore(context, 'read', async (store) => {
    const { record, items } = await readDataset(store, checkDatasetName(context.positionals[0] ?? ''));
    if (context.options.json) {
      printJson(context, { database: store.location, ...record });
      return 0;
    }
    const definition = record.definition as unknown as DatasetDefinition;
    context.output.stdout(`dataset ${record.name}: ${items.length} ${definition.kind} items of ${definition.task}, content ${record.contentHash}, pinned ${record.createdAt}\n`);
    context.output.stdout(`  chosen by: ${JSON.stringify(definition)}\n`);
    const clusters = new Set(items.map((item) => item.cluster)).size;
    context.output.stdout(`  ${clusters} clusters (conversations); statuses: ${describeStatuses(items)}\n\n`);
    for (const item of items) {
      context.output.stdout(`${table([[item.id, item.reference.status, item.label === null ? '' : `label ${item.label.score}`, truncate(JSON.stringify(item.input), 60)]], [48, 10, 10, 60])}\n`);
    }
    return 0;
  });

function describeStatuses(items: DatasetItem[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.reference.status, (counts.get(item.reference.status) ?? 0) + 1);
  return [...counts].map(([status, number]) => `${number} ${status}`).join(', ');
}

/** `keel dataset export NAME --format jsonl|openai-chat --out FILE`: reads the store, writes only FILE. */
export const datasetExportCommand: Command = async (context) => {
  const name = checkDatasetName(context.positionals[0] ?? '');
  const format = parseExportFormat(context.options.format);
  const out = context.options.out;
  if (out === undefined) throw new KeelError('usage-invalid', 'keel dataset export needs --out FILE');
  return withStore(context, 'read', async (store) => {
    const { items } = await readDataset(store, name);
    const { lines, skipped } = exportLines(items, format);
    writeFileSync(out, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    context.output.stdout(`wrote ${lines.length} ${format} lines of dataset ${name} to ${out}${skipped === 0 ? '' : ` (${skipped} items without a model call left out)`}\n`);
    return 0;
  });
};
