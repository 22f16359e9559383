import { KeelError } from '../../errors/index.ts';
import type { KeyUsage } from '../../gateway/key-usage.ts';
import type { ApiKeyRecordV1, KeyBudgetPeriodV1, KeySettingsV1, KeyStoreV1, StoreV1 } from '../../spec/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { printJson } from '../command.ts';
import { micros, table } from '../format/text.ts';
import { checkWholeNumber } from '../whole-number-option.ts';

const periods: KeyBudgetPeriodV1[] = ['run', 'day', 'month'];
const positiveRange = { min: 1, max: Number.MAX_SAFE_INTEGER };

/**
 * `keel keys create --tenant T --principal P [--budget-micros N --per run|day|month] [--models a,b]
 * [--rpm N] [--tpm N] [--expires-in 30d]`: a virtual key for the gateway, refused from its expiry on. The secret is printed once; the store keeps
 * only its hash. Once a store holds a key, `keel serve` on it requires one on every request.
 */
export const keysCreateCommand: Command = async (context) => {
  const { tenant, principal } = context.options;
  if (tenant === undefined || principal === undefined) throw new KeelError('usage-invalid', 'keel keys create needs --tenant T and --principal P: the key acts for them');
  const settings = keySettings(context);
  const { checkVirtualKey, createVirtualKey } = await import('../../gateway/index.ts');
  checkVirtualKey({ tenant, principal, settings });
  return withKeys(context, 'create', async (keys, store) => {
    const { secret, key } = await createVirtualKey(keys, { tenant, principal, settings });
    if (context.options.json) {
      printJson(context, { database: store.location, secret, key });
      return 0;
    }
    context.output.stdout(`${secret}\n`);
    context.output.stderr(`keel: created ${key.keyId} for ${principal} of tenant ${tenant} (${describeSettings(key.settings)}); the secret above is shown once and stored only as a hash\n`);
    return 0;
  });
};

/** `keel keys list`: every key, revoked ones included; never a secret. */
export const keysListCommand: Command = async (context) =>
  withKeys(context, 'read', async (keys, store) => {
    const { listKeysWithUsage } = await import('../../gateway/key-usage.ts');
    const listed = await listKeysWithUsage(keys, store.budgets);
    if (context.options.json) {
      printJson(context, { database: store.location, keys: listed });
      return 0;
    }
    if (listed.length === 0) {
      context.output.stdout(`No keys in ${store.location}.\n`);
      return 0;
    }
    const { paint } = context;
    const rows = [['KEY', 'TENANT', 'PRINCIPAL', 'LIMITS', 'SPENT', 'CREATED', 'REVOKED'].map((heading) => paint('dim', heading))];
    for (const key of listed) {
      rows.push([key.keyId, key.tenant, key.principal, describeSettings(key.settings), describeUsage(key.usage), day(key.createdAt), key.revokedAt === null ? '-' : day(key.revokedAt)]);
    }
    context.output.stdout(`${table(rows)}\n`);
    return 0;
  });

/** `keel keys revoke KEY`: the key is refused from its next request on, by every gateway on the store. */
export const keysRevokeCommand: Command = async (context) => {
  const keyId = context.positionals[0] ?? '';
  return withKeys(context, 'write', async (keys, store) => {
    const key = await keys.revokeKey(keyId, new Date().toISOString());
    if (key === undefined) throw new KeelError('key-not-found', `no key ${keyId} in ${store.location} (keel keys list shows them)`);
    if (context.options.json) printJson(context, { database: store.location, key });
    else context.output.stdout(`${key.keyId} revoked at ${key.revokedAt ?? ''}\n`);
    return 0;
  });
};

/** `keel keys rotate KEY`: a new secret for a live key, printed once; the old secret is refused from now on. */
export const keysRotateCommand: Command = async (context) => {
  const keyId = context.positionals[0] ?? '';
  const { rotateVirtualKey } = await import('../../gateway/index.ts');
  return withKeys(context, 'write', async (keys, store) => {
    const { secret, key } = await rotateVirtualKey(keys, keyId);
    if (context.options.json) {
      printJson(context, { database: store.location, secret, key });
      return 0;
    }
    context.output.stdout(`${secret}\n`);
    context.output.stderr(`keel: ${key.keyId} has a new secret, shown above once; the old one is refused from now on\n`);
    return 0;
  });
};

/** The settings from the options, every one checked before the store is opened. */
function keySettings(context: CommandContext): KeySettingsV1 {
  const { budgetMicros, per, models, rpm, tpm } = context.options;
  const settings: KeySettingsV1 = { models: [] };
  if (models !== undefined) {
    settings.models = models.split(',').map((model) => model.trim());
    if (settings.models.some((model) => model === '')) throw new KeelError('usage-invalid', `--models is a comma-separated list of route or provider:model names; got ${JSON.stringify(models)}`);
  }
  if ((budgetMicros === undefined) !== (per === undefined)) throw new KeelError('usage-invalid', '--budget-micros and --per go together: --budget-micros N --per run|day|month');
  if (budgetMicros !== undefined && per !== undefined) {
    if (!periods.includes(per as KeyBudgetPeriodV1)) throw new KeelError('usage-invalid', `--per must be one of ${periods.join(', ')}; got ${JSON.stringify(per)}`);
    settings.budget = { micros: checkWholeNumber('budget-micros', budgetMicros, positiveRange), per: per as KeyBudgetPeriodV1 };
  }
  if (rpm !== undefined) settings.rpm = checkWholeNumber('rpm', rpm, positiveRange);
  if (tpm !== undefined) settings.tpm = checkWholeNumber('tpm', tpm, positiveRange);
  if (context.options.expiresIn !== undefined) settings.expiresAt = new Date(Date.now() + lifetimeMs(context.options.expiresIn)).toISOString();
  return settings;
}

const lifetimeUnits: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
// Ten years: past it a key is as good as forever, and revocation is the tool.
const longestLifetimeMs = 3_650 * 86_400_000;

/** `--expires-in`: a whole number of minutes, hours or days (`90m`, `12h`, `30d`), at most ten years. */
function lifetimeMs(text: string): number {
  const match = /^([1-9]\d{0,6})([mhd])$/.exec(text.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * (lifetimeUnits[match[2] ?? ''] ?? Number.NaN);
  if (!Number.isFinite(ms) || ms > longestLifetimeMs) throw new KeelError('usage-invalid', `--expires-in takes a whole number of minutes, hours or days up to ten years (90m, 12h, 30d); got ${JSON.stringify(text)}`);
  return ms;
}

/** `list` reads (opened read-only, as `keel runs` is); `create` may make the database; `revoke` needs it. */
async function withKeys(context: CommandContext, access: 'read' | 'write' | 'create', work: (keys: KeyStoreV1, store: StoreV1) => Promise<number>): Promise<number> {
  const store = await openStore({ database: context.options.db, create: access === 'create', readOnly: access === 'read', environment: context.environment });
  try {
    if (store.keys === undefined) throw new KeelError('runtime-unsupported', `the store at ${store.location} keeps no keys`);
    return await work(store.keys, store);
  } finally {
    await store.close();
  }
}

function describeSettings(settings: ApiKeyRecordV1['settings']): string {
  const parts = [settings.models.length === 0 ? 'every model' : `models ${settings.models.join(',')}`];
  if (settings.budget !== undefined) parts.push(`${micros(settings.budget.micros)} per ${settings.budget.per}`);
  if (settings.rpm !== undefined) parts.push(`${settings.rpm} rpm`);
  if (settings.tpm !== undefined) parts.push(`${settings.tpm} tpm`);
  if (settings.expiresAt !== undefined) parts.push(`expires ${day(settings.expiresAt)}`);
  return parts.join(', ');
}

/** `$0.012 of $5.00 on 2026-12-05`, with what calls in flight hold; `-` for a key whose spend the book does not keep. */
function describeUsage(usage: KeyUsage | null): string {
  if (usage === null) return '-';
  const held = usage.reservedMicros > 0 ? ` (+${micros(usage.reservedMicros)} in flight)` : '';
  return `${micros(usage.spentMicros)} of ${micros(usage.limitMicros)} ${usage.window === 'day' ? 'on' : 'in'} ${usage.period}${held}`;
}

function day(time: string): string {
  return time.replace('T', ' ').slice(0, 19);
}
