/**
 * The two statements every evidence bundle carries: how Keel's records map onto the record-keeping
 * provisions auditors ask about, and what the bundle says about retention. They are Keel's reading,
 * offered to help an assessment; the text says so.
 */

export interface RetentionFacts {
  from: string;
  to: string;
  runs: number;
  events: number;
  leaves: number;
  treeHeads: number;
  unanchoredRuns: number;
  producer: string;
  location: string;
}

export function retentionStatement(facts: RetentionFacts): string {
  return `# Retention statement

- Period covered: ${facts.from} (inclusive) to ${facts.to} (exclusive).
- Source: the Keel store at ${facts.location}, exported by ${facts.producer}.
- Contents: ${facts.runs} runs with ${facts.events} journal events, ${facts.leaves} audit leaves and ${facts.treeHeads} signed tree heads.

Keel keeps every run's journal in its store until an operator deletes it; it deletes nothing on its
own. The journal is append-only and hash-chained, and every run is anchored at its end (and on the
worker's schedule) as a leaf of a Merkle tree whose heads are signed with a key kept outside the
database. A run that is deleted, cut short or rewritten after it was anchored therefore shows in
\`keel audit verify\` and in this bundle's verify.mjs; retention can be shown, not only asserted.

Fields labelled personal or confidential and naming their subjects are in this bundle as they are
in the journal: sealed (\`{"$sealed": …}\`, AES-256-GCM under per-subject keys kept in the store,
never in the bundle). The hashes cover the sealed form, so verify.mjs checks every chain without
the keys; once \`keel redact --subject\` destroys a subject's key, no copy of those fields, in the
store or in any bundle, can be read again (docs/redaction.md).

Art. 26(6) of the EU AI Act asks deployers of high-risk AI systems to keep the logs under their
control for a period appropriate to the system's purpose, of at least six months unless other law
says otherwise. The retention period is the operator's decision: keep the store, or this bundle with
the public key it is verified with, for at least that period.

${facts.unanchoredRuns > 0 ? `${facts.unanchoredRuns} runs in this bundle have events after their last anchor (for example runs still in progress, or a deployment without an audit signing key): their chains are checked, but no signed tree head vouches for those events yet.` : 'Every run in this bundle is anchored up to its last event.'}
`;
}

export function recordKeepingMap(): string {
  return `# Keel's records and the record-keeping provisions

Keel's reading of where its records answer each provision, offered to help an assessment; it is not
legal advice. Every item below is a journal event (noun-verb names; see \`keel show RUN --json\`).

## EU AI Act, Article 12(2): logging capabilities

| provision | Keel records |
| --- | --- |
| (a) events relevant to identifying situations that may result in the system presenting a risk, or in a substantial modification | \`policy-decision\` (every allow, deny and require-approval, with the policy ids and the policy set version), \`approval-request\` and \`human-decision\`, \`failure-decision\`, \`loop-guard\`, \`output-validation\` (contract failures and repairs), \`alert-raise\` (budget, latency, quality, model-version changes), \`breaker-transition\`, \`fault-injection\` (drills); a substantial modification shows as a new \`configHash\` in \`run-start\` (config/task-configs.json) or a new policy set version (config/policy-sets.json), and a provider's model change as its reported model version |
| (b) facilitating post-market monitoring (Art. 72) | every run's \`run-start\` and \`run-end\` (status and reason: ok, degraded with confidence markers, escalated, failed), \`model-attempt-end\` (provider, model, usage, latency), \`step-end\` (cost in micro-USD, outcome), \`retrieval-signal\`, \`context-assembly\` (the manifest of what the model saw), and the evaluation scores and monitors recorded as runs |
| (c) monitoring the operation of the system by deployers (Art. 26(5)) | \`route-decision\`, \`budget-decision\` (reservations and refusals), \`retry-wait\`, \`model-fallback\`, \`request-receive\` (gateway caller, key and \`traceparent\`), \`run-resume\` (takeovers after a failure), \`human-decision\` with \`decision: stop\` (a person halting a run) |

Article 12(1) asks for automatic recording over the system's lifetime: Keel writes these events as
the run happens, each hash-chained to the one before, and signs the log's state (audit/tree-heads.json).

## EU AI Act, Article 26(6): keeping the logs

The journals stay in the deployer's own store (SQLite file or PostgreSQL schema) for as long as the
deployer keeps them; retention.md states this bundle's period and how a deletion would show.

## ISO/IEC 42001, Annex A, control A.6.2.8: AI system recording of event logs

Event logging is on whenever the system is in use: every run, through the agent loop, a framework
adapter, the gateway or the MCP proxy, is journaled from its first event, and the journal is the
system of record (telemetry and metrics are views of it). Tampering is detectable by
\`keel audit verify\` and by this bundle's verify.mjs.
`;
}
