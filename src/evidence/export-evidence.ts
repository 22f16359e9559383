/**
 * Writes a self-contained evidence bundle for a period: the journals of the runs created or
 * anchored in it, the audit log's leaves, signed tree heads and proofs, the configuration and
 * policy snapshots with their hashes, the approvals and overrides, a retention statement, a map
 * of Keel's records onto EU AI Act and ISO/IEC 42001 record-keeping, and verify.mjs, which checks
 * all of it with plain Node. Reads the store only; writes only the bundle's directory.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { auditLeafHash, MerkleTree } from '../audit/index.ts';
import { KeelError } from '../errors/index.ts';
import type { AuditLeafV1, AuditTreeHeadV1, JournalRecordV1, JsonValue, RunRecordV1, StoreV1 } from '../spec/index.ts';
import { recordKeepingMap, retentionStatement } from './record-keeping-map.ts';

export interface EvidenceExportOptions {
  store: StoreV1;
  /** Inclusive start of the period. */
  from: Date;
  /** Exclusive end of the period. */
  to: Date;
  /** The bundle's directory: created, or an empty one. */
  out: string;
  /** The audit public key (PEM), copied into the bundle for convenience; auditors should use their own copy. */
  publicKeyPem?: string;
  /** The deployment's config file and policy files or folders, copied with their hashes. */
  snapshots?: string[];
  /** What wrote the bundle, e.g. `keel 0.1.0`. */
  producer: string;
}

export interface EvidenceExportSummary {
  out: string;
  runs: number;
  events: number;
  leaves: number;
  treeHeads: number;
  approvals: number;
  /** Runs in the bundle with events after their last anchor, or never anchored. */
  unanchoredRuns: number;
  files: string[];
}

const pageSize = 500;

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function checkOutDirectory(out: string): void {
  if (!existsSync(out)) {
    mkdirSync(out, { recursive: true });
    return;
  }
  if (!statSync(out).isDirectory()) throw new KeelError('usage-invalid', `${out} exists and is not a directory: give --out a new or empty directory`);
  if (readdirSync(out).length > 0) throw new KeelError('usage-invalid', `${out} is not empty: give --out a new or empty directory, so no earlier bundle is mixed into this one`);
}

/** Runs created in [from, to), newest first through the store's keyset paging. */
async function runsCreatedIn(store: StoreV1, from: string, to: string): Promise<RunRecordV1[]> {
  const found: RunRecordV1[] = [];
  let after: Pick<RunRecordV1, 'createdAt' | 'id'> | undefined;
  for (;;) {
    const page = await store.listRuns({ limit: pageSize, ...(after === undefined ? {} : { after }) });
    for (const run of page) if (run.createdAt >= from && run.createdAt < to) found.push(run);
    const last = page.at(-1);
    if (last === undefined || page.length < pageSize || last.createdAt < from) return found;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

/** Files under a snapshot path (a file, or every file of a folder), relative to it. */
function snapshotFiles(path: string): { source: string; name: string }[] {
  if (!existsSync(path)) throw new KeelError('usage-invalid', `cannot snapshot ${path}: it does not exist`);
  if (statSync(path).isFile()) return [{ source: path, name: basename(path) }];
  return readdirSync(path, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const source = join(entry.parentPath, entry.name);
      return { source, name: join(basename(path), relative(path, source)) };
    })
    .sort((left, right) => left.name.localeCompare(right.name));
}

export async function exportEvidence(options: EvidenceExportOptions): Promise<EvidenceExportSummary> {
  const { store } = options;
  if (!(options.from.getTime() < options.to.getTime())) throw new KeelError('usage-invalid', `the period is empty: --from ${options.from.toISOString()} is not before --to ${options.to.toISOString()}`);
  const log = store.auditLog;
  if (log === undefined) throw new KeelError('config-invalid', `the store at ${store.location} keeps no audit log, so there is no signed evidence to export`);
  const from = options.from.toISOString();
  const to = options.to.toISOString();
  const snapshots = (options.snapshots ?? []).flatMap((path) => snapshotFiles(path));
  checkOutDirectory(options.out);

  const heads: AuditTreeHeadV1[] = await log.listTreeHeads();
  const latest = heads.at(-1);
  const leaves: AuditLeafV1[] = latest === undefined ? [] : await log.readAuditLeaves(0, latest.treeSize);
  const runs = new Map((await runsCreatedIn(store, from, to)).map((run) => [run.id, run]));
  for (const leaf of leaves) {
    if (runs.has(leaf.runId) || leaf.anchoredAt < from || leaf.anchoredAt >= to) continue;
    const run = await store.getRun(leaf.runId);
    // A run anchored in the period but gone from the store is left out: the verifier names it.
    if (run !== undefined) runs.set(run.id, run);
  }
  const ordered = [...runs.values()].sort((left, right) => (left.createdAt === right.createdAt ? left.id.localeCompare(right.id) : left.createdAt.localeCompare(right.createdAt)));

  const files = new Map<string, string>();
  const write = (name: string, content: string) => {
    const path = join(options.out, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
    files.set(name, sha256(content));
  };

  const lines: string[] = [];
  const approvals: string[] = [];
  const taskConfigs = new Map<string, { configHash: string; task: string; taskVersion: string; config: JsonValue; firstRun: string }>();
  const policySets = new Map<string, { policySetVersion: string; engine: string; decisions: number }>();
  const exportedLastSeq = new Map<string, number>();
  let events = 0;
  for (const run of ordered) {
    const journal: JournalRecordV1[] = await store.readJournal(run.id);
    events += journal.length;
    // The run as its journal leaves it: a run still being written is exported up to its last event read here.
    const last = journal.at(-1);
    const record = { ...run, lastSeq: last?.seq ?? 0, lastHash: last?.hash ?? run.lastHash };
    exportedLastSeq.set(run.id, record.lastSeq);
    lines.push(JSON.stringify({ run: record, events: journal }));
    for (const event of journal) {
      const data = event.data as Record<string, JsonValue>;
      if (event.type === 'run-start' && typeof data.configHash === 'string' && !taskConfigs.has(data.configHash)) {
        taskConfigs.set(data.configHash, { configHash: data.configHash, task: run.task, taskVersion: run.taskVersion, config: data.config ?? null, firstRun: run.id });
      }
      if (event.type === 'policy-decision' && typeof data.policySetVersion === 'string') {
        const known = policySets.get(data.policySetVersion) ?? { policySetVersion: data.policySetVersion, engine: typeof data.engine === 'string' ? data.engine : '', decisions: 0 };
        known.decisions += 1;
        policySets.set(data.policySetVersion, known);
      }
      if (event.type === 'approval-request' || event.type === 'human-decision') {
        approvals.push(JSON.stringify({ runId: run.id, task: run.task, tenant: run.tenant, seq: event.seq, time: event.time, type: event.type, hash: event.hash, ...data }));
      }
    }
  }
  write('runs.jsonl', lines.map((line) => `${line}\n`).join(''));
  write('approvals.jsonl', approvals.map((line) => `${line}\n`).join(''));

  const tree = new MerkleTree(leaves.map((leaf) => auditLeafHash(leaf)));
  write('audit/leaves.jsonl', leaves.map((leaf) => `${JSON.stringify(leaf)}\n`).join(''));
  write('audit/tree-heads.json', `${JSON.stringify(heads.map(({ compactRange: _range, ...head }) => head), null, 2)}\n`);
  const inclusion: Record<string, { leafIndex: number; treeSize: number; path: string[] }> = {};
  const latestLeaf = new Map<string, AuditLeafV1>();
  for (const leaf of leaves) {
    if (!runs.has(leaf.runId)) continue;
    const known = latestLeaf.get(leaf.runId);
    if (known === undefined || leaf.seq > known.seq) latestLeaf.set(leaf.runId, leaf);
  }
  if (latest !== undefined) {
    for (const [runId, leaf] of latestLeaf) inclusion[runId] = { leafIndex: leaf.index, treeSize: latest.treeSize, path: tree.inclusionProof(leaf.index, latest.treeSize).map((hash) => hash.toString('hex')) };
  }
  write('audit/inclusion-proofs.json', `${JSON.stringify(inclusion, null, 2)}\n`);
  const consistency = heads.slice(1).map((head, index) => {
    const previous = heads[index] as AuditTreeHeadV1;
    return { fromSize: previous.treeSize, toSize: head.treeSize, proof: tree.consistencyProof(previous.treeSize, head.treeSize).map((hash) => hash.toString('hex')) };
  });
  write('audit/consistency-proofs.json', `${JSON.stringify(consistency, null, 2)}\n`);
  if (options.publicKeyPem !== undefined) write('audit/public-key.pem', options.publicKeyPem);

  write('config/task-configs.json', `${JSON.stringify([...taskConfigs.values()], null, 2)}\n`);
  write('config/policy-sets.json', `${JSON.stringify([...policySets.values()], null, 2)}\n`);
  const snapshotHashes: { file: string; sha256: string }[] = [];
  for (const snapshot of snapshots) {
    const name = join('config', 'snapshot', snapshot.name);
    mkdirSync(join(options.out, name, '..'), { recursive: true });
    copyFileSync(snapshot.source, join(options.out, name));
    const digest = sha256(readFileSync(snapshot.source));
    files.set(name, digest);
    snapshotHashes.push({ file: name, sha256: digest });
  }

  const unanchoredRuns = ordered.filter((run) => (latestLeaf.get(run.id)?.seq ?? 0) < (exportedLastSeq.get(run.id) ?? 0)).length;
  const facts = { from, to, runs: ordered.length, events, leaves: leaves.length, treeHeads: heads.length, approvals: approvals.length, unanchoredRuns, producer: options.producer, location: store.location };
  write('retention.md', retentionStatement(facts));
  write('record-keeping-map.md', recordKeepingMap());
  write('verify.mjs', readFileSync(join(import.meta.dirname, 'verify-bundle.mjs'), 'utf8'));
  write('README.md', bundleReadme(facts, snapshotHashes));

  const manifest = {
    format: 'keel-evidence/v1',
    createdAt: new Date().toISOString(),
    producer: options.producer,
    database: store.location,
    period: { from, to },
    counts: { runs: ordered.length, events, auditLeaves: leaves.length, treeHeads: heads.length, approvals: approvals.length, unanchoredRuns },
    latestTreeHead: latest === undefined ? null : { treeSize: latest.treeSize, rootHash: latest.rootHash, issuedAt: latest.issuedAt, keyId: latest.keyId },
    files: Object.fromEntries([...files.entries()].sort(([left], [right]) => left.localeCompare(right))),
  };
  writeFileSync(join(options.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { out: options.out, runs: ordered.length, events, leaves: leaves.length, treeHeads: heads.length, approvals: approvals.length, unanchoredRuns, files: ['manifest.json', ...files.keys()] };
}

function bundleReadme(facts: { from: string; to: string; runs: number; events: number; treeHeads: number; producer: string }, snapshots: { file: string; sha256: string }[]): string {
  return `# Keel evidence bundle

Written by ${facts.producer}. Period: ${facts.from} (inclusive) to ${facts.to} (exclusive): ${facts.runs} runs, ${facts.events} journal events, ${facts.treeHeads} signed tree heads.

Check it with Node alone (18 or later; no Keel, no packages, no network), using the audit public key you hold:

    node verify.mjs . --public-key /path/to/audit-public-key.pem

Exit 0 means: every event hashes to its recorded hash and chains to its predecessor; the audit leaves reproduce the root of every signed tree head; each head's Ed25519 signature verifies with the key; consecutive heads are consistent; and every run anchored in the period is here, with each anchored event unchanged. \`--strict\` also fails on runs with events after their last anchor. \`audit/public-key.pem\` is the exporter's copy of the key: prefer your own.

| file | what |
| --- | --- |
| manifest.json | the period, counts, the latest signed tree head and the SHA-256 of every file |
| runs.jsonl | one line per run: its record and its whole journal, events as stored and hashed |
| approvals.jsonl | every approval request and human decision (approve, deny, stop) of these runs |
| audit/leaves.jsonl | every audit leaf (run, event, hash) up to the latest signed tree head |
| audit/tree-heads.json | the signed tree heads |
| audit/inclusion-proofs.json | for each run, the path from its latest anchor to the latest tree head |
| audit/consistency-proofs.json | for each pair of consecutive tree heads, the proof that the later extends the earlier |
| config/task-configs.json | each task configuration the runs started with, by the hash their run-start event records |
| config/policy-sets.json | each policy set version that decided a call, with its number of decisions |
${snapshots.map((snapshot) => `| ${snapshot.file} | snapshot given at export, SHA-256 ${snapshot.sha256} |`).join('\n')}${snapshots.length > 0 ? '\n' : ''}| retention.md | what is kept, for how long, and how deletion shows |
| record-keeping-map.md | Keel's records mapped onto EU AI Act Art. 12(2)(a)-(c) and 26(6), and ISO/IEC 42001 A.6.2.8 |
| verify.mjs | the verifier |
`;
}
