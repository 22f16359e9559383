import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import type { Keel } from '../../agent/index.ts';
import { KeelError } from '../../errors/index.ts';
import { verifyChain } from '../../journal/index.ts';
import { openSealedFieldsIn } from '../../redaction/index.ts';
import { checkPeriod } from '../../store/period.ts';
import { parseRunTagFilter } from '../../store/run-tags.ts';
import type { JournalRecordV1, JsonValue, KeyBudgetPeriodV1, KeySettingsV1, KeyStoreV1, RunRecordV1, RunStatusV1 } from '../../spec/index.ts';
import { jsonResponse } from '../json-response.ts';
import { listKeysWithUsage } from '../key-usage.ts';
import { createVirtualKey, rotateVirtualKey } from '../virtual-keys.ts';
import { adminFailure } from './admin-error.ts';
import { deciderName, optionalCount, optionalText, readAdminBody, requiredText } from './admin-request.ts';
import { presentsAdminToken } from './admin-token.ts';
import { decodeCursor, encodeCursor, runView } from './run-view.ts';
import { defaultSpendPeriod, parseSpendGrouping, spendReport } from './spend-report.ts';

export interface AdminOptions {
  keel: Keel;
  /** The bearer token every admin request must bring (checked at start by `checkAdminToken`). */
  token: string;
  log?: ((line: string) => void) | undefined;
}

const runStatuses: readonly RunStatusV1[] = ['queued', 'running', 'waiting', 'ok', 'degraded', 'escalated', 'failed'];
const keyPeriods: readonly KeyBudgetPeriodV1[] = ['run', 'day', 'month'];
const defaultPageSize = 50;
const maxPageSize = 500;
/** A tenant filter reads runs the store cannot select by tenant; one request reads at most this many. */
const maxRunsScanned = 5_000;
/** The OpenAPI 3.1 document of this API, beside this module (shipped with the package). */
export const adminOpenApiPath = join(import.meta.dirname, 'admin-openapi.json');
const endpoints = 'GET /admin/openapi.json, GET /admin/runs, GET /admin/runs/{id}, GET /admin/runs/{id}/journal, GET /admin/escalations, POST /admin/runs/{id}/approve, POST /admin/runs/{id}/deny, POST /admin/runs/{id}/stop, GET /admin/keys, POST /admin/keys, POST /admin/keys/{id}/revoke';

/**
 * The admin API, mounted at /admin by the gateway when an admin token is configured: runs and
 * their journals, the escalation queue and its decisions, stopping runs, virtual keys. Decisions
 * and stops go through the engine exactly as `keel approve` / `keel deny` / `keel stop` do.
 * Answers are JSON; failures are `{ error: { code, message } }` (docs/admin-api.md).
 */
export function adminRoutes({ keel, token, log }: AdminOptions): Hono {
  const admin = new Hono();
  const { store } = keel;

  admin.use('*', async (c, next) => {
    if (!presentsAdminToken(c.req.header('authorization'), token)) {
      return adminFailure(new KeelError('admin-token-invalid', 'the admin API needs the admin token: send it as Authorization: Bearer <token> (keel serve reads it from KEEL_ADMIN_TOKEN or the file KEEL_ADMIN_TOKEN_FILE names)'), log, '');
    }
    await next();
  });

  admin.get('/runs', async (c) => {
    const query = c.req.query();
    const unknown = Object.keys(query).filter((name) => !['status', 'task', 'tenant', 'tag', 'since', 'until', 'limit', 'after'].includes(name));
    if (unknown.length > 0) throw new KeelError('usage-invalid', `unknown query parameter ${JSON.stringify(unknown[0])}; GET /admin/runs takes status, task, tenant, tag, since, until, limit and after`);
    const statuses = query.status === undefined ? undefined : parseStatuses(query.status);
    // Repeatable (tag=project=search&tag=team=core): the runs carrying every one; the store selects them.
    const tags = parseRunTagFilter(c.req.queries('tag') ?? [], 'tag');
    // Created at or after since, before until: the forms and words of GET /admin/spend's period, naming the parameter.
    const period = checkPeriod(query, { since: 'since', until: 'until' });
    const limit = query.limit === undefined ? defaultPageSize : parseLimit(query.limit);
    const { task, tenant } = query;
    let after = query.after === undefined ? undefined : decodeCursor(query.after);
    const runs: RunRecordV1[] = [];
    let scanned = 0;
    let more = true;
    while (runs.length < limit && scanned < maxRunsScanned) {
      const asked = tenant === undefined ? limit - runs.length : maxPageSize;
      const page = await store.listRuns({ limit: asked, tags, ...period, ...(statuses === undefined ? {} : { statuses }), ...(task === undefined ? {} : { task }), ...(after === undefined ? {} : { after }) });
      let read = 0;
      for (const run of page) {
        read += 1;
        scanned += 1;
        after = { createdAt: run.createdAt, id: run.id };
        if (tenant !== undefined && run.tenant !== tenant) continue;
        runs.push(run);
        if (runs.length === limit) break;
      }
      // A short page read to its end is the last one; a full page may have more behind it.
      if (page.length < asked && read === page.length) {
        more = false;
        break;
      }
    }
    return jsonResponse({ runs: runs.map(runView), next: !more || after === undefined ? null : encodeCursor(after) }, 200);
  });

  admin.get('/runs/:id', async (c) => {
    const run = await findRun(keel, c.req.param('id'));
    const journal = run.status === 'waiting' ? await openSealedFieldsIn(store, await store.readJournal(run.id)) : [];
    return jsonResponse({ run: runView(run), approval: pendingApproval(journal) ?? null }, 200);
  });

  admin.get('/runs/:id/journal', async (c) => {
    const run = await findRun(keel, c.req.param('id'));
    const records = await store.readJournal(run.id);
    // A journal that does not verify is still shown, flagged: that is when people need to read it.
    // Verified as stored; shown with sealed fields opened, or marked redacted (src/redaction).
    return jsonResponse({ runId: run.id, chain: verifyChain(records), events: await openSealedFieldsIn(store, records) }, 200);
  });

  // Chargeback: what runs created in a period spent, by tenant, principal, task or tag:NAME (default: this UTC month, by tenant).
  admin.get('/spend', async (c) => {
    const period = defaultSpendPeriod();
    const grouping = parseSpendGrouping(c.req.query('by') ?? 'tenant', 'by');
    return jsonResponse(await spendReport(keel.store, { since: c.req.query('since') ?? period.since, until: c.req.query('until') ?? period.until, ...grouping }), 200);
  });

  admin.get('/escalations', async () => {
    const escalations = [];
    let after: { createdAt: string; id: string } | undefined;
    for (;;) {
      const waiting = await store.listRuns({ statuses: ['waiting'], limit: maxPageSize, ...(after === undefined ? {} : { after }) });
      for (const run of waiting) {
        const approval = pendingApproval(await openSealedFieldsIn(store, await store.readJournal(run.id)));
        if (approval === undefined) continue;
        escalations.push({ run: runView(run), approval });
      }
      const last = waiting.at(-1);
      if (waiting.length < maxPageSize || last === undefined) break;
      after = { createdAt: last.createdAt, id: last.id };
    }
    return jsonResponse({ escalations }, 200);
  });

  for (const decision of ['approve', 'deny'] as const) {
    admin.post(`/runs/:id/${decision}`, async (c) => {
      const body = await readAdminBody(c.req.raw, ['as', 'reason']);
      const decider = deciderName(requiredText(body, 'as', 200, 'the journal records who decided'));
      const reason = decision === 'deny' ? requiredText(body, 'reason', 2_000, 'the run records why it was denied') : optionalText(body, 'reason', 2_000);
      const runId = (await findRun(keel, c.req.param('id'))).id;
      // The engine records the decision, then continues the run here if this process serves its
      // task; otherwise the run is queued and the next worker serving it continues it.
      const result = await keel.decide(runId, { decision, decider, ...(reason === undefined ? {} : { reason }) });
      const run = await findRun(keel, runId);
      const continued = 'status' in result ? 'here' : 'queued-for-a-worker';
      return jsonResponse({ decision: { runId, decision, decider, reason: reason ?? null }, continued, run: runView(run) }, 200);
    });
  }

  admin.post('/runs/:id/stop', async (c) => {
    const body = await readAdminBody(c.req.raw, ['as', 'reason']);
    const by = deciderName(requiredText(body, 'as', 200, 'the journal records who stopped the run'));
    const reason = optionalText(body, 'reason', 2_000) ?? 'stopped from the admin API';
    const before = await findRun(keel, c.req.param('id'));
    const alreadyEnded = isEnded(before.status);
    const run = alreadyEnded ? before : await keel.stop(before.id, { by, reason });
    return jsonResponse({ alreadyEnded, stopped: !alreadyEnded && isEnded(run.status), run: runView(run) }, 200);
  });

  // Each key with what it has spent of a daily or monthly budget now (null without one: key-usage.ts).
  admin.get('/keys', async () => jsonResponse({ keys: await listKeysWithUsage(keyStore(keel), keel.store.budgets) }, 200));

  admin.post('/keys', async (c) => {
    const body = await readAdminBody(c.req.raw, ['tenant', 'principal', 'models', 'budget', 'rpm', 'tpm', 'expiresAt']);
    const tenant = requiredText(body, 'tenant', 200, 'a key acts for a tenant');
    const principal = requiredText(body, 'principal', 200, 'a key acts for a principal');
    const settings = keySettings(body);
    // createVirtualKey checks the identity and the settings before anything is written.
    const { secret, key } = await createVirtualKey(keyStore(keel), { tenant, principal, settings });
    return jsonResponse({ secret, key }, 201);
  });

  admin.post('/keys/:id/rotate', async (c) => jsonResponse(await rotateVirtualKey(keyStore(keel), c.req.param('id')), 200));

  admin.post('/keys/:id/revoke', async (c) => {
    const keyId = c.req.param('id');
    const key = await keyStore(keel).revokeKey(keyId, new Date().toISOString());
    if (key === undefined) throw new KeelError('key-not-found', `no key ${keyId} (GET /admin/keys lists them)`);
    return jsonResponse({ key }, 200);
  });

  let openApi: string | undefined;
  admin.get('/openapi.json', () => {
    openApi ??= readFileSync(adminOpenApiPath, 'utf8');
    return new Response(openApi, { status: 200, headers: { 'content-type': 'application/json' } });
  });

  admin.all('*', (c) => adminFailure(new KeelError('admin-route-unknown', `no admin endpoint ${c.req.method} ${c.req.path}; the admin API serves ${endpoints}`), log, ''));

  admin.onError((error, c) => adminFailure(error, log, `${c.req.method} ${c.req.path}`));
  return admin;
}

async function findRun(keel: Keel, runId: string): Promise<RunRecordV1> {
  const run = await keel.store.getRun(runId);
  if (run === undefined) throw new KeelError('run-not-found', `no run ${runId} (GET /admin/runs lists them)`);
  return run;
}

function keyStore(keel: Keel): KeyStoreV1 {
  const keys = keel.store.keys;
  if (keys === undefined) throw new KeelError('runtime-unsupported', `the store at ${keel.store.location} keeps no keys`);
  return keys;
}

function isEnded(status: RunStatusV1): boolean {
  return status === 'ok' || status === 'degraded' || status === 'escalated' || status === 'failed';
}

function parseStatuses(value: string): RunStatusV1[] {
  const statuses = value.split(',').map((status) => status.trim());
  const wrong = statuses.find((status) => !runStatuses.includes(status as RunStatusV1));
  if (wrong !== undefined) throw new KeelError('usage-invalid', `status must be one or more (comma-separated) of ${runStatuses.join(', ')}; got ${JSON.stringify(wrong.slice(0, 40))}`);
  return statuses as RunStatusV1[];
}

function parseLimit(value: string): number {
  const limit = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= maxPageSize)) throw new KeelError('usage-invalid', `limit must be a whole number from 1 to ${maxPageSize}; got ${JSON.stringify(value.slice(0, 40))}`);
  return limit;
}

/**
 * What a waiting run waits for: its last approval request, unless a decision on it follows. Read
 * from the records as stored, so a run whose chain does not verify is still listed (the journal
 * endpoint shows where it breaks; the engine refuses to act on it).
 */
function pendingApproval(records: readonly JournalRecordV1[]): { id: string; step: number; reason: string; details: JsonValue; requestedAt: string } | undefined {
  for (let index = records.length - 1; index >= 0; index -= 1) {
    const record = records[index];
    if (record === undefined || record.type === 'human-decision') return undefined;
    if (record.type !== 'approval-request') continue;
    const data = record.data as { id: string; step: number; reason: string; details: JsonValue };
    return { id: data.id, step: data.step, reason: data.reason, details: data.details, requestedAt: record.time };
  }
  return undefined;
}

function keySettings(body: Record<string, unknown>): KeySettingsV1 {
  const settings: KeySettingsV1 = { models: [] };
  if (body.models !== undefined) {
    if (!Array.isArray(body.models) || body.models.some((model) => typeof model !== 'string')) throw new KeelError('usage-invalid', 'models must be an array of route or provider:model names');
    settings.models = body.models as string[];
  }
  if (body.budget !== undefined) {
    const budget = body.budget;
    if (typeof budget !== 'object' || budget === null || Array.isArray(budget) || Object.keys(budget).some((field) => field !== 'micros' && field !== 'per')) {
      throw new KeelError('usage-invalid', 'budget must be an object { micros, per }');
    }
    const { micros, per } = budget as { micros?: unknown; per?: unknown };
    if (typeof micros !== 'number' || !Number.isSafeInteger(micros) || micros <= 0 || !keyPeriods.includes(per as KeyBudgetPeriodV1)) {
      throw new KeelError('usage-invalid', `budget needs micros (a positive whole number of micro-USD) and per (one of ${keyPeriods.join(', ')})`);
    }
    settings.budget = { micros, per: per as KeyBudgetPeriodV1 };
  }
  const rpm = optionalCount(body, 'rpm');
  const tpm = optionalCount(body, 'tpm');
  if (rpm !== undefined) settings.rpm = rpm;
  if (tpm !== undefined) settings.tpm = tpm;
  if (body.expiresAt !== undefined) {
    if (typeof body.expiresAt !== 'string') throw new KeelError('usage-invalid', 'expiresAt must be an ISO-8601 UTC time such as 2027-01-31T00:00:00.000Z');
    // createVirtualKey checks that it is one, and that it is to come.
    settings.expiresAt = body.expiresAt;
  }
  return settings;
}
