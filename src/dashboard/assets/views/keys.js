import { api } from '../api.js';
import { h, notice, replace } from '../dom.js';
import { money, time } from '../format.js';
import { failure } from './common.js';

function limits(settings) {
  const parts = [settings.models.length === 0 ? 'every model' : `models ${settings.models.join(', ')}`];
  if (settings.budget !== undefined) parts.push(`${money(settings.budget.micros)} per ${settings.budget.per}`);
  if (settings.rpm !== undefined) parts.push(`${settings.rpm} requests/min`);
  if (settings.tpm !== undefined) parts.push(`${settings.tpm} tokens/min`);
  if (settings.expiresAt !== undefined) parts.push(`expires ${time(settings.expiresAt)}`);
  return parts.join(', ');
}

/** What the key has spent of a daily or monthly budget in the current window; a dash where the book keeps no account. */
function spent(usage) {
  if (usage === null || usage === undefined) return '-';
  const held = usage.reservedMicros > 0 ? ` (+${money(usage.reservedMicros)} in flight)` : '';
  return `${money(usage.spentMicros)} of ${money(usage.limitMicros)} ${usage.window === 'day' ? 'on' : 'in'} ${usage.period}${held}`;
}

function field(label, input) {
  return h('label', {}, h('span', {}, label), input);
}

/** Virtual keys: every key (never a secret), a form to create one (its secret shown once), revocation. */
export function renderKeys(main) {
  const rows = h('tbody', {});
  const listMessage = h('div', { class: 'message' });
  const created = h('div', { class: 'message', id: 'created-key' });
  const inputs = {
    tenant: h('input', { name: 'tenant', required: true }),
    principal: h('input', { name: 'principal', required: true }),
    models: h('input', { name: 'models', placeholder: 'every model' }),
    budget: h('input', { name: 'budget', type: 'number', min: 1, placeholder: 'micro-USD' }),
    per: h('select', { name: 'per' }, ['run', 'day', 'month'].map((value) => h('option', { value }, value))),
    rpm: h('input', { name: 'rpm', type: 'number', min: 1 }),
    tpm: h('input', { name: 'tpm', type: 'number', min: 1 }),
    expiresDays: h('input', { name: 'expires-days', type: 'number', min: 1, placeholder: 'never' }),
  };
  const form = h(
    'form',
    { class: 'card key-form', onsubmit: (event) => void create(event) },
    h('h2', {}, 'Create a key'),
    field('Tenant', inputs.tenant),
    field('Principal', inputs.principal),
    field('Models (comma-separated)', inputs.models),
    field('Budget', inputs.budget),
    field('per', inputs.per),
    field('Requests per minute', inputs.rpm),
    field('Tokens per minute', inputs.tpm),
    field('Expires in (days)', inputs.expiresDays),
    h('button', { type: 'submit' }, 'Create key'),
    created,
  );
  replace(main, h('h1', {}, 'Virtual keys'), listMessage, h('table', { class: 'keys' }, h('thead', {}, h('tr', {}, ['Key', 'Tenant', 'Principal', 'Limits', 'Spent', 'Created', 'Revoked', ''].map((heading) => h('th', {}, heading)))), rows), form);

  async function load() {
    try {
      const { keys } = await api('/keys');
      replace(
        rows,
        keys.map((key) =>
          h(
            'tr',
            { 'data-key-id': key.keyId },
            h('td', {}, h('code', {}, key.keyId)),
            h('td', {}, key.tenant),
            h('td', {}, key.principal),
            h('td', {}, limits(key.settings)),
            h('td', { class: 'spent' }, spent(key.usage)),
            h('td', {}, time(key.createdAt)),
            h('td', {}, key.revokedAt === null ? '-' : time(key.revokedAt)),
            h(
              'td',
              {},
              key.revokedAt === null
                ? [h('button', { type: 'button', class: 'rotate', onclick: () => void rotate(key.keyId) }, 'New secret'), ' ', h('button', { type: 'button', class: 'deny', onclick: () => void revoke(key.keyId) }, 'Revoke')]
                : null,
            ),
          ),
        ),
      );
      if (keys.length === 0) replace(listMessage, notice('ok', 'No keys yet: until one exists, the gateway takes requests without a key (on loopback).'));
    } catch (error) {
      replace(listMessage, failure(error));
    }
  }

  async function create(event) {
    event.preventDefault();
    const body = { tenant: inputs.tenant.value.trim(), principal: inputs.principal.value.trim() };
    const models = inputs.models.value.split(',').map((model) => model.trim()).filter((model) => model !== '');
    if (models.length > 0) body.models = models;
    if (inputs.budget.value !== '') body.budget = { micros: Number(inputs.budget.value), per: inputs.per.value };
    if (inputs.rpm.value !== '') body.rpm = Number(inputs.rpm.value);
    if (inputs.tpm.value !== '') body.tpm = Number(inputs.tpm.value);
    if (inputs.expiresDays.value !== '') body.expiresAt = new Date(Date.now() + Number(inputs.expiresDays.value) * 86_400_000).toISOString();
    try {
      const { secret, key } = await api('/keys', { method: 'POST', body });
      replace(created, notice('ok', `Created ${key.keyId}. Its secret, shown this once (the gateway keeps only its hash): `, h('code', { class: 'secret' }, secret)));
      replace(listMessage);
      await load();
    } catch (error) {
      replace(created, failure(error));
    }
  }

  async function rotate(keyId) {
    try {
      const { secret } = await api(`/keys/${encodeURIComponent(keyId)}/rotate`, { method: 'POST' });
      replace(created, notice('ok', `${keyId} has a new secret, shown this once; the old one is refused from now on: `, h('code', { class: 'secret' }, secret)));
      await load();
    } catch (error) {
      replace(listMessage, failure(error));
    }
  }

  async function revoke(keyId) {
    try {
      await api(`/keys/${encodeURIComponent(keyId)}/revoke`, { method: 'POST' });
      await load();
    } catch (error) {
      replace(listMessage, failure(error));
    }
  }

  void load();
}
