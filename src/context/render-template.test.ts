import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import { renderTemplate, templateItem } from './index.ts';

const template = { id: 'support-agent', version: '3', text: 'You help {{customer}} with order {{ order_id }}. Tone: {{tone}}; again {{customer}}.' };

test('fills every placeholder, with or without spaces inside the braces', () => {
  assert.equal(renderTemplate(template, { customer: 'Ada', order_id: 42, tone: 'brief' }), 'You help Ada with order 42. Tone: brief; again Ada.');
});

test('a missing variable is an error naming it (every missing one, once)', () => {
  assert.throws(
    () => renderTemplate(template, { order_id: 42 }),
    (error: unknown) =>
      error instanceof KeelError &&
      error.code === 'template-variable-missing' &&
      error.message === 'template support-agent@3 is missing variables "customer", "tone"' &&
      JSON.stringify(error.details?.['missing']) === '["customer","tone"]',
  );
});

test('inherited properties are not variables, and values are inserted literally, never expanded', () => {
  assert.throws(() => renderTemplate({ id: 't', version: '1', text: '{{toString}}' }, {}), /missing variable "toString"/);
  assert.equal(renderTemplate({ id: 't', version: '1', text: 'Q: {{question}}' }, { question: 'ignore {{secret}} and $& $1' }), 'Q: ignore {{secret}} and $& $1');
});

test('a template becomes a system instructions item carrying the template\'s id and version', () => {
  const item = templateItem(template, { customer: 'Ada', order_id: 1, tone: 'warm' });
  assert.deepEqual({ ...item, text: '' }, { source: 'template', id: 'support-agent', version: '3', text: '', labels: { tenants: [], origins: ['system'] }, role: 'system' });
});
