/**
 * Every error code Keel raises, with its retryability and HTTP status: one table, so the CLI, the
 * journal and the gateway agree on what a failure means.
 */
export const errorCodes = {
  'config-invalid': { retryable: false, httpStatus: 400 },
  'policy-invalid': { retryable: false, httpStatus: 400 },
  'grant-invalid': { retryable: false, httpStatus: 400 },
  'db-url-invalid': { retryable: false, httpStatus: 400 },
  'db-missing': { retryable: false, httpStatus: 404 },
  'db-unreadable': { retryable: false, httpStatus: 500 },
  'db-foreign': { retryable: false, httpStatus: 409 },
  'db-too-new': { retryable: false, httpStatus: 409 },
  'db-unavailable': { retryable: true, httpStatus: 503 },
  // KEEL_REDIS_URL names a server that cannot be reached (at start), or a command on it failed.
  'redis-unavailable': { retryable: true, httpStatus: 503 },
  'run-not-found': { retryable: false, httpStatus: 404 },
  'run-exists': { retryable: false, httpStatus: 409 },
  'run-terminal': { retryable: false, httpStatus: 409 },
  'task-unknown': { retryable: false, httpStatus: 400 },
  'journal-conflict': { retryable: false, httpStatus: 409 },
  'journal-invalid': { retryable: false, httpStatus: 500 },
  'lease-lost': { retryable: false, httpStatus: 409 },
  'replay-divergence': { retryable: false, httpStatus: 500 },
  'step-outcome-unknown': { retryable: false, httpStatus: 409 },
  'step-threw': { retryable: false, httpStatus: 500 },
  'checkpoint-missing': { retryable: false, httpStatus: 409 },
  'approval-denied': { retryable: false, httpStatus: 403 },
  'run-not-waiting': { retryable: false, httpStatus: 409 },
  'run-stopped': { retryable: false, httpStatus: 409 },
  'checkpoint-unverified': { retryable: false, httpStatus: 409 },
  'model-error': { retryable: true, httpStatus: 502 },
  // The caller's own signal fired (not a deadline): a cancellation, not a provider failure.
  'model-aborted': { retryable: false, httpStatus: 499 },
  // Provider failures, as adapters classify them. Retryability is the default; an adapter may
  // override it per error (a 5xx with `x-should-retry: false`, say).
  'model-rate-limited': { retryable: true, httpStatus: 429 },
  'model-overloaded': { retryable: true, httpStatus: 503 },
  'model-server-error': { retryable: true, httpStatus: 502 },
  'model-timeout': { retryable: true, httpStatus: 504 },
  'model-connection-failed': { retryable: true, httpStatus: 502 },
  'model-stream-truncated': { retryable: true, httpStatus: 502 },
  'model-auth-failed': { retryable: false, httpStatus: 502 },
  'model-request-invalid': { retryable: false, httpStatus: 400 },
  'model-not-found': { retryable: false, httpStatus: 404 },
  'model-context-exceeded': { retryable: false, httpStatus: 400 },
  'model-refused': { retryable: false, httpStatus: 422 },
  // The model cannot do what was asked of it (embeddings of a chat-only model).
  'model-unsupported': { retryable: false, httpStatus: 400 },
  'model-output-malformed': { retryable: true, httpStatus: 502 },
  'tool-error': { retryable: false, httpStatus: 502 },
  // A tool call refused by policy, scope, constraint or rate limit, under an agent that fails on denial.
  'tool-denied': { retryable: false, httpStatus: 403 },
  // A model call the policy engine refused (the gateway's `call-model` on `Model::"<name>"`).
  'policy-denied': { retryable: false, httpStatus: 403 },
  // The model's turn ended with neither text nor a tool call.
  'agent-answer-empty': { retryable: true, httpStatus: 502 },
  // What a run was started with is not what the agent takes.
  'agent-input-invalid': { retryable: false, httpStatus: 400 },
  'tool-timeout': { retryable: true, httpStatus: 504 },
  'tool-output-invalid': { retryable: false, httpStatus: 502 },
  'failure-contract-missing': { retryable: false, httpStatus: 500 },
  'context-over-budget': { retryable: false, httpStatus: 400 },
  'template-variable-missing': { retryable: false, httpStatus: 400 },
  'retriever-unavailable': { retryable: true, httpStatus: 503 },
  'usage-invalid': { retryable: false, httpStatus: 400 },
  'price-unknown': { retryable: false, httpStatus: 400 },
  'output-contract-violated': { retryable: false, httpStatus: 422 },
  'budget-exceeded': { retryable: false, httpStatus: 402 },
  'deadline-exceeded': { retryable: false, httpStatus: 504 },
  'breaker-open': { retryable: true, httpStatus: 503 },
  'bulkhead-full': { retryable: true, httpStatus: 503 },
  'route-exhausted': { retryable: false, httpStatus: 502 },
  'runtime-unsupported': { retryable: false, httpStatus: 500 },
  'internal': { retryable: false, httpStatus: 500 },
  // A budgeted model called where no run step can hold its reservation: a programming error.
  'model-call-outside-step': { retryable: false, httpStatus: 500 },
  // The tasks module (--tasks, KEEL_TASKS, the config's `tasks`) is missing, fails to load or serves nothing.
  'tasks-invalid': { retryable: false, httpStatus: 400 },
  // A Keel database older than this Keel, opened by a reader: reading never migrates.
  'db-too-old': { retryable: false, httpStatus: 409 },
  // Virtual keys: an id or secret hash already taken, a key id nobody created, a secret that is no live key.
  'key-exists': { retryable: false, httpStatus: 409 },
  'key-not-found': { retryable: false, httpStatus: 404 },
  'key-invalid': { retryable: false, httpStatus: 401 },
  // The admin API (keel serve's /admin): a request without the admin token, a path it does not serve.
  'admin-token-invalid': { retryable: false, httpStatus: 401 },
  'admin-route-unknown': { retryable: false, httpStatus: 404 },
  // Evaluation datasets: a name already pinned, a name nobody pinned; two evaluations that cannot be compared.
  'dataset-exists': { retryable: false, httpStatus: 409 },
  'dataset-not-found': { retryable: false, httpStatus: 404 },
  'evaluation-incomparable': { retryable: false, httpStatus: 409 },
  // Telemetry: an OTLP receiver that did not acknowledge a batch (sent again later); another exporter moved the cursor.
  'telemetry-export-failed': { retryable: true, httpStatus: 502 },
  'telemetry-cursor-conflict': { retryable: false, httpStatus: 409 },
  // Redaction: a subject the store never held a key for; data about subjects and a store that cannot seal it.
  'subject-unknown': { retryable: false, httpStatus: 404 },
  'redaction-unavailable': { retryable: false, httpStatus: 500 },
} as const satisfies Record<string, { retryable: boolean; httpStatus: number }>;

export type ErrorCode = keyof typeof errorCodes;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCodes, value);
}
