/**
 * The dashboard in a real browser (Debian's Chromium, headless, driven by playwright-core) against
 * real processes: `keel demo` fills a store with the support-refund demo's runs (one waits for a
 * support lead: a $1,250 refund over the $500 limit), `keel serve` with an admin token serves the
 * dashboard and the admin API over it, and `keel worker` serves the demo's task. A support lead
 * signs in, approves the refund from the page and watches the run end `ok`; the timeline of a
 * demo run renders; journal text that is markup (a gateway request's message) stays text. Screenshots go to test-output/dashboard/.
 * Every wait is on the page's state or a process's output, never on the clock.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { parseEvent } from '../../src/journal/index.ts';
import { openStore } from '../../src/store/index.ts';
import type { Service } from './dashboard-harness.ts';
import { chromiumLaunchOptions, keel, service } from './dashboard-harness.ts';

const root = join(import.meta.dirname, '..', '..');
const screenshots = join(root, 'test-output', 'dashboard');
const folder = mkdtempSync(join(tmpdir(), 'keel-dashboard-'));
const database = join(folder, 'keel.db');
const place = { database, folder };
const token = 'dashboard-test-token-4f9a1c27e3b8';
/** What a client sends the gateway: markup that would run if the page ever parsed journal text as HTML. */
const hostileMessage = '<script>window.keelXss = 1</script><img src=x onerror="window.keelXss = 2"> is my order refundable?';

interface DemoRunLine {
  id: string;
  status: string;
  customer: string;
}

let demoRuns: DemoRunLine[] = [];
let serve: Service;
let worker: Service;
let url = '';
let launched: Promise<Browser> | undefined;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const dialogs: string[] = [];

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  // The browser starts while the processes do.
  launched = chromium.launch(chromiumLaunchOptions);
  demoRuns = (JSON.parse(await keel(place, ['demo', '--json'])) as { runs: DemoRunLine[] }).runs;
  assert.deepEqual(demoRuns.map((run) => run.status), ['ok', 'ok', 'waiting', 'degraded', 'failed']);
  serve = service(place, ['serve', '--port', '0'], { KEEL_ADMIN_TOKEN: token });
  worker = service(place, ['worker']);
  const [listening, opened] = await Promise.all([serve.line(/dashboard at (http:\/\/\S+)\/dashboard\//), launched, worker.line(/serving tasks support-refund/)]);
  browser = opened;
  url = listening[1] ?? '';
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
});

after(async () => {
  // Closed even when a setup step failed before the launch was awaited.
  await (await launched?.catch(() => undefined))?.close();
  for (const child of [serve, worker]) if (child !== undefined && child.process.exitCode === null) child.process.kill('SIGTERM');
  await Promise.all([serve?.exited, worker?.exited]);
  rmSync(folder, { recursive: true, force: true });
});

describe('the dashboard in Chromium', () => {
  test('is served with a Content-Security-Policy and no inline script', async () => {
    const response = await fetch(`${url}/dashboard/`);
    assert.equal(response.status, 200);
    const policy = response.headers.get('content-security-policy') ?? '';
    assert.match(policy, /script-src 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
    const html = await response.text();
    assert.deepEqual([...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]), ['<script type="module" src="app.js">']);
    assert.equal((await fetch(`${url}/dashboard/../../etc/passwd`)).status, 404);
  });

  test('a wrong token is refused at sign-in; the admin token lets the support lead in', async () => {
    await page.goto(`${url}/dashboard/`);
    await page.locator('#token').waitFor();
    await page.screenshot({ path: join(screenshots, 'login.png') });
    await page.fill('#token', 'not-the-admin-token-at-all');
    await page.fill('#name', 'dana');
    await page.click('form.login button[type=submit]');
    await page.getByText('That token was refused by the gateway.').waitFor();
    await page.fill('#token', token);
    await page.click('form.login button[type=submit]');
    await page.locator('h1', { hasText: 'Waiting for a decision' }).waitFor();
    await page.locator('#signed-in', { hasText: 'signed in as dana' }).waitFor();
  });

  test('the support lead finds the waiting refund, approves it from the page and watches the run end ok', async () => {
    const waiting = demoRuns[2];
    assert.ok(waiting !== undefined);
    const card = page.locator(`article.escalation[data-run-id="${waiting.id}"]`);
    await card.waitFor();
    assert.match(await card.locator('h2').innerText(), /refund of \$1250\.00 for order A-1003 exceeds the \$500\.00 auto-approval limit/);
    await page.screenshot({ path: join(screenshots, 'escalations.png'), fullPage: true });
    await page.locator('#waiting-count', { hasText: /^1$/ }).waitFor();
    await card.locator('textarea[name=reason]').fill('Damaged on arrival; photos checked.');
    await card.locator('button.approve').click();
    // The gateway records the decision; the worker serving support-refund takes the run on to its end.
    await card.locator('.decided [data-status="ok"]').waitFor({ timeout: 20_000 });
    assert.match(await card.locator('.decided').innerText(), /user:dana approved run_/);
    await page.locator('#waiting-count:empty').waitFor({ state: 'attached' });
    await page.screenshot({ path: join(screenshots, 'approved.png'), fullPage: true });
    await worker.line(new RegExp(`ok\\s+${waiting.id}`));
    const store = await openStore({ database, create: false, readOnly: true, environment: {} });
    try {
      const events = (await store.readJournal(waiting.id)).map(parseEvent);
      const decision = events.find((event) => event.type === 'human-decision');
      assert.deepEqual(decision?.type === 'human-decision' ? [decision.data.decision, decision.data.decider, decision.data.reason] : [], ['approve', 'user:dana', 'Damaged on arrival; photos checked.']);
      assert.equal(events.at(-1)?.type, 'run-end');
      assert.equal((await store.getRun(waiting.id))?.status, 'ok');
    } finally {
      await store.close();
    }
  });

  test('the runs page lists the runs, filters by status, and opens a run by its id', async () => {
    await page.click('nav a[data-page=runs]');
    await page.locator('table.runs tbody tr').nth(demoRuns.length - 1).waitFor();
    const listed = await Promise.all((await page.locator('table.runs tbody tr').all()).map((row) => row.getAttribute('data-run-id')));
    assert.deepEqual(listed, demoRuns.map((run) => run.id).reverse());
    await page.screenshot({ path: join(screenshots, 'runs.png'), fullPage: true });
    await page.selectOption('#status-filter', 'failed');
    await page.waitForURL(/#\/runs\?status=failed$/);
    await page.locator(`table.runs tbody tr[data-run-id="${demoRuns[4]?.id}"]`).waitFor();
    assert.deepEqual(await page.locator('table.runs tbody tr [data-status]').allInnerTexts(), ['failed']);
    await page.fill('#run-search', 'run_does-not-exist');
    await page.click('form.search button');
    await page.getByText('No run run_does-not-exist.').waitFor();
  });

  test('the timeline of a demo run shows its model calls, tool calls, policy decisions and costs, and a verified hash chain', async () => {
    const refunded = demoRuns[0];
    assert.ok(refunded !== undefined);
    await page.fill('#run-search', refunded.id);
    await page.click('form.search button');
    await page.locator('.timeline li[data-type="run-end"]').waitFor();
    const store = await openStore({ database, create: false, readOnly: true, environment: {} });
    const events = await store.readJournal(refunded.id);
    await store.close();
    assert.equal(await page.locator('.timeline li.event').count(), events.length);
    assert.match(await page.locator('[data-chain]').innerText(), new RegExp(`Hash chain verified: ${events.length} events`));
    assert.ok((await page.locator('.timeline li.kind-model[data-type="model-attempt-end"]').count()) >= 2);
    assert.ok((await page.locator('.timeline li.kind-tool[data-type="step-start"]').count()) >= 2);
    assert.match(await page.locator('.timeline li[data-type="policy-decision"]').first().innerText(), /Policy: allow/);
    assert.match(await page.locator('.timeline li[data-type="step-end"] .cost').first().innerText(), /^\$0\.\d{6}$/);
    assert.match(await page.locator('.timeline li[data-type="run-end"]').innerText(), /Run ended\s+ok/);
    assert.match(await page.locator('h1').innerText(), /ok/);
    await page.screenshot({ path: join(screenshots, 'timeline.png'), fullPage: true });
  });

  test('journal text that is markup is shown as text and never runs', async () => {
    // A request through the gateway is a journaled run; its message and the simulator's echo of it are in the journal.
    const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sim:default', messages: [{ role: 'user', content: hostileMessage }] }) });
    assert.equal(response.status, 200, await response.clone().text());
    const runId = response.headers.get('keel-run-id') ?? '';
    assert.match(runId, /^run_/);
    await page.goto(`${url}/dashboard/#/runs/${runId}`);
    await page.locator('.timeline li[data-type="run-end"]').waitFor();
    const shown = await page.locator('.timeline').innerText();
    assert.ok(shown.includes('<script>window.keelXss = 1</script><img src=x onerror=\\"window.keelXss = 2\\">'), shown);
    assert.equal(await page.locator('main script, main img').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as { keelXss?: number }).keelXss), undefined);
    await page.screenshot({ path: join(screenshots, 'xss-as-text.png'), fullPage: true });
  });

  test('keys: a key created on the page shows its secret once, and can be revoked', async () => {
    await page.click('nav a[data-page=keys]');
    await page.locator('form.key-form').waitFor();
    await page.fill('form.key-form input[name=tenant]', 'acme-shop');
    await page.fill('form.key-form input[name=principal]', 'svc:helpdesk');
    await page.fill('form.key-form input[name=budget]', '5000000');
    await page.selectOption('form.key-form select[name=per]', 'month');
    await page.fill('form.key-form input[name=expires-days]', '30');
    await page.click('form.key-form button[type=submit]');
    const secret = await page.locator('#created-key code.secret').innerText();
    assert.match(secret, /^keel_[A-Za-z0-9_-]{43}$/);
    const row = page.locator('table.keys tbody tr').first();
    await row.waitFor();
    assert.match(await row.innerText(), /acme-shop\s+svc:helpdesk\s+every model, \$5\.00 per month, expires \d{4}-\d{2}-\d{2} /);
    // Nothing spent yet, in this month's account of the shared budget book.
    assert.match(await row.locator('td.spent').innerText(), /^\$0\.000000 of \$5\.00 in \d{4}-\d{2}$/);
    // A new secret from the page: shown once, and the old one no longer opens the model API.
    await row.locator('button.rotate').click();
    await page.locator('#created-key', { hasText: 'has a new secret' }).waitFor();
    const rotated = await page.locator('#created-key code.secret').innerText();
    assert.match(rotated, /^keel_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(rotated, secret);
    assert.equal((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } })).status, 401);
    assert.equal((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${rotated}` } })).status, 200);
    await page.screenshot({ path: join(screenshots, 'keys.png'), fullPage: true });
    await row.locator('button.deny').click();
    await row.locator('button.deny').waitFor({ state: 'detached' });
    assert.doesNotMatch(await row.locator('td').nth(6).innerText(), /^-$/);
  });

  test('no script error and no dialog happened on any page', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(dialogs, []);
  });
});
