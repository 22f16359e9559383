/**
 * The dashboard's Spend page and run tags in a real browser (Debian's Chromium, headless, driven by
 * playwright-core) against a real `keel serve`: requests through its gateway open runs for two
 * tenants and three principals, most tagged by their metadata (one tag value is markup). The page's
 * rows and total must be the admin API's report for the same period and grouping, formatted; a
 * refused grouping or period shows the API's own message; a run's page and the run list show its
 * tags as text. Every wait is on the page's state or a process's output, never on the clock.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { Service } from './dashboard-harness.ts';
import { chromiumLaunchOptions, serveDashboard, signIn } from './dashboard-harness.ts';

const screenshots = join(import.meta.dirname, '..', '..', 'test-output', 'dashboard');
const folder = mkdtempSync(join(tmpdir(), 'keel-dashboard-spend-'));
const place = { database: join(folder, 'keel.db'), folder };
const token = 'dashboard-spend-token-83be0f5d1a6c';
/** A tag value that would run if the page ever parsed it as markup. */
const hostileValue = '<img src=x onerror="window.keelXss = 3"><b>bold</b>';

interface SpendRow {
  group: string | null;
  runs: number;
  costMicros: number;
  inputTokens: number;
  outputTokens: number;
}

interface SpendReport {
  since: string;
  until: string;
  by: string;
  tag?: string;
  rows: SpendRow[];
  total: Omit<SpendRow, 'group'>;
}

/** The runs the gateway opened, by what they are in this test. */
const runIds: Record<'searchLong' | 'searchShort' | 'ads' | 'untagged' | 'hostile', string> = { searchLong: '', searchShort: '', ads: '', untagged: '', hostile: '' };
let serve: Service | undefined;
let url = '';
let launched: Promise<Browser> | undefined;
let page: Page;
const pageErrors: string[] = [];
const dialogs: string[] = [];

/** One chat completion through the gateway for that tenant and principal, tagged with `metadata`; resolves with its run's id. */
async function chat(tenant: string, principal: string, prompt: string, metadata?: Record<string, string>): Promise<string> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'keel-tenant': tenant, 'keel-principal': principal },
    body: JSON.stringify({ model: 'sim:default', messages: [{ role: 'user', content: prompt }], ...(metadata === undefined ? {} : { metadata }) }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  const runId = response.headers.get('keel-run-id') ?? '';
  assert.match(runId, /^run_/);
  return runId;
}

async function admin(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/admin${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

async function spendReport(query: Record<string, string>): Promise<SpendReport> {
  const { status, body } = await admin(`/spend?${new URLSearchParams(query).toString()}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body as SpendReport;
}

/** Integer micro-dollars as the page must show them: cents from a cent up, else to the micro-dollar. */
function dollars(micros: number): string {
  const amount = micros / 1_000_000;
  return `$${amount >= 0.01 ? amount.toFixed(2) : amount.toFixed(6)}`;
}

function figures(row: Omit<SpendRow, 'group'>): string[] {
  return [row.runs.toLocaleString('en-US'), dollars(row.costMicros), row.inputTokens.toLocaleString('en-US'), row.outputTokens.toLocaleString('en-US')];
}

/** The UTC day of a time, as a date input holds it. */
function dayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** The first and last day of the UTC month a time is in. */
function monthOf(time: number): { from: string; to: string } {
  const date = new Date(time);
  return { from: dayOf(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1)), to: dayOf(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)) };
}

/** Clicks Show and waits for the figures of that grouping to be on the page. */
async function show(by: string): Promise<void> {
  await page.click('form.spend-form button[type=submit]');
  await page.locator(`.spend-result[data-by="${by}"]`).waitFor();
}

/**
 * The figures on the page are the admin API's report for the period and grouping the page says it
 * shows: every row in the API's order (group, runs, cost, input and output tokens) and the total.
 */
async function assertPageIsApiReport(by: string): Promise<SpendReport> {
  const result = page.locator(`.spend-result[data-by="${by}"]`);
  const since = (await result.getAttribute('data-since')) ?? '';
  const until = (await result.getAttribute('data-until')) ?? '';
  const report = await spendReport({ since, until, by });
  const rows = await Promise.all(
    (await page.locator('table.spend tbody tr').all()).map(async (row) => [await row.locator('th').innerText(), ...(await row.locator('td').allInnerTexts())]),
  );
  assert.deepEqual(rows, report.rows.map((row) => [row.group ?? '(none)', ...figures(row)]));
  assert.deepEqual(await page.locator('table.spend tfoot tr.total').locator('th, td').allInnerTexts(), ['Total', ...figures(report.total)]);
  return report;
}

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  // The browser starts while keel serve does.
  launched = chromium.launch(chromiumLaunchOptions);
  const started = await serveDashboard(place, token);
  serve = started.serve;
  url = started.url;
  // Prompts of different lengths, so the runs cost different amounts.
  runIds.searchLong = await chat('acme', 'ada', 'Find the parcels shipped to Lisbon last week, and the ones still waiting at the depot in Porto', { project: 'search' });
  runIds.searchShort = await chat('acme', 'ada', 'Find parcel 7', { project: 'search' });
  runIds.ads = await chat('acme', 'bob', 'Write an ad for spring', { project: 'ads', campaign: 'spring', team: 'growth', feature: 'banner', region: 'eu' });
  runIds.untagged = await chat('globex', 'carol', 'Hello there');
  runIds.hostile = await chat('globex', 'carol', 'Is my order refundable?', { project: hostileValue });
  page = await (await launched).newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await signIn(page, url, token, 'fin');
});

after(async () => {
  // Closed even when a setup step failed before the launch was awaited.
  await (await launched?.catch(() => undefined))?.close();
  if (serve !== undefined && serve.process.exitCode === null) serve.process.kill('SIGTERM');
  await serve?.exited;
  rmSync(folder, { recursive: true, force: true });
});

describe('the Spend page and run tags in Chromium', () => {
  test('Spend opens on this UTC month by tenant, showing the rows and total the admin API reports for it', async () => {
    const opened = Date.now();
    await page.click('nav a[data-page=spend]');
    await page.locator('.spend-result[data-by="tenant"]').waitFor();
    // Either month, should one have turned while the page opened.
    const shown = { from: await page.inputValue('#spend-from'), to: await page.inputValue('#spend-to') };
    assert.ok([monthOf(opened), monthOf(Date.now())].some((month) => month.from === shown.from && month.to === shown.to), JSON.stringify(shown));
    assert.equal(await page.inputValue('#spend-by'), 'tenant');
    assert.equal(await page.locator('#spend-tag').isVisible(), false, 'the tag name field is for grouping by tag');
    assert.equal(await page.locator('nav a[aria-current=page]').innerText(), 'Spend');
    const report = await assertPageIsApiReport('tenant');
    assert.equal(report.since, `${shown.from}T00:00:00.000Z`);
  });

  test('From and To choose whole UTC days, To included; by tenant and by principal the page shows what the admin API reports', async () => {
    const now = Date.now();
    const from = dayOf(now - 86_400_000);
    const to = dayOf(now + 86_400_000);
    await page.fill('#spend-from', from);
    await page.fill('#spend-to', to);
    await page.click('form.spend-form button[type=submit]');
    await page.waitForURL(`${url}/dashboard/#/spend?${new URLSearchParams({ from, to, by: 'tenant' }).toString()}`);
    await page.locator(`.spend-result[data-since="${from}T00:00:00.000Z"]`).waitFor();
    const byTenant = await assertPageIsApiReport('tenant');
    assert.equal(byTenant.until, `${dayOf(now + 2 * 86_400_000)}T00:00:00.000Z`, 'until is the start of the day after To');
    assert.deepEqual(byTenant.rows.map((row) => [row.group, row.runs]).toSorted(), [['acme', 3], ['globex', 2]]);
    assert.equal(byTenant.total.runs, 5);
    assert.ok(byTenant.rows.every((row) => row.costMicros > 0), 'every tenant was billed');
    assert.match(await page.locator('table.spend caption').innerText(), new RegExp(`Spend by tenant of the runs created from ${from} 00:00:00 until`));
    await page.screenshot({ path: join(screenshots, 'spend.png'), fullPage: true });

    await page.selectOption('#spend-by', 'principal');
    await show('principal');
    const byPrincipal = await assertPageIsApiReport('principal');
    assert.deepEqual(byPrincipal.rows.map((row) => [row.group, row.runs]).toSorted(), [['ada', 2], ['bob', 1], ['carol', 2]]);
    assert.deepEqual(byPrincipal.total, byTenant.total);
    assert.equal(await page.locator('table.spend thead th').first().innerText(), 'Principal');
  });

  test('by tag:project: a row per project, "(none)" for the run without the tag, and a value holding markup shown as text', async () => {
    await page.selectOption('#spend-by', 'tag');
    await page.locator('#spend-tag').waitFor();
    await page.fill('#spend-tag', 'project');
    await show('tag:project');
    assert.match(page.url(), /by=tag%3Aproject$/);
    const report = await assertPageIsApiReport('tag:project');
    assert.deepEqual(report.rows.map((row) => [row.group, row.runs]).toSorted(), [[hostileValue, 1], ['ads', 1], ['search', 2], [null, 1]].toSorted());
    const none = page.locator('table.spend tbody tr.no-group');
    assert.deepEqual([await none.locator('th').innerText(), await none.locator('td').first().innerText()], ['(none)', '1']);
    assert.equal(await page.locator('table.spend thead th').first().innerText(), 'Tag project');
    // The markup is the group's name, as characters; nothing of it became an element or ran.
    assert.equal(await page.locator('table.spend tbody th').filter({ hasText: hostileValue }).count(), 1);
    assert.equal(await page.locator('main img, main b').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as { keelXss?: number }).keelXss), undefined);
    await page.screenshot({ path: join(screenshots, 'spend-by-tag.png'), fullPage: true });
  });

  test("a refused grouping or period shows the API's 400 message beside the form", async () => {
    const from = await page.inputValue('#spend-from');
    const to = await page.inputValue('#spend-to');
    const until = `${dayOf(Date.parse(`${to}T00:00:00.000Z`) + 86_400_000)}T00:00:00.000Z`;
    const refusal = async (query: Record<string, string>): Promise<string> => {
      const { status, body } = await admin(`/spend?${new URLSearchParams(query).toString()}`);
      assert.equal(status, 400, JSON.stringify(body));
      return (body as { error: { message: string } }).error.message;
    };

    await page.fill('#spend-tag', 'bad name');
    await page.click('form.spend-form button[type=submit]');
    const message = page.locator('.spend-result .notice-error[role=alert]');
    await message.waitFor();
    assert.equal(await message.innerText(), await refusal({ since: `${from}T00:00:00.000Z`, until, by: 'tag:bad name' }));
    assert.match(await message.innerText(), /tag's name, 1 to 64 letters/);
    assert.equal(await page.locator('table.spend').count(), 0);
    assert.ok(await page.locator('#spend-from').isVisible(), 'the form stays, to correct the input');

    // From after To.
    const later = dayOf(Date.parse(`${to}T00:00:00.000Z`) + 2 * 86_400_000);
    await page.fill('#spend-tag', 'project');
    await page.fill('#spend-from', later);
    await page.click('form.spend-form button[type=submit]');
    await page.locator('.spend-result .notice-error', { hasText: 'is after until' }).waitFor();
    assert.equal(await message.innerText(), await refusal({ since: `${later}T00:00:00.000Z`, until, by: 'tag:project' }));

    // An address edited by hand: a day the calendar does not have goes to the API as it is.
    await page.goto(`${url}/dashboard/#/spend?from=2026-02-30&to=2026-03-01&by=tenant`);
    await page.locator('.spend-result .notice-error', { hasText: 'since must be an ISO-8601 time' }).waitFor();
    assert.equal(await message.innerText(), await refusal({ since: '2026-02-30', until: '2026-03-02T00:00:00.000Z', by: 'tenant' }));
  });

  test("a run's page shows its tags as text; the run list shows them as chips", async () => {
    await page.goto(`${url}/dashboard/#/runs/${runIds.searchLong}`);
    await page.locator('.timeline li[data-type="run-end"]').waitFor();
    assert.deepEqual(await page.locator('dd.run-tags li.tag').allInnerTexts(), ['project=search']);

    await page.goto(`${url}/dashboard/#/runs/${runIds.hostile}`);
    await page.locator('.timeline li[data-type="run-end"]').waitFor();
    assert.deepEqual(await page.locator('dd.run-tags li.tag').allInnerTexts(), [`project=${hostileValue}`]);
    assert.equal(await page.locator('main img, main b').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as { keelXss?: number }).keelXss), undefined);

    await page.goto(`${url}/dashboard/#/runs/${runIds.untagged}`);
    await page.locator('.timeline li[data-type="run-end"]').waitFor();
    assert.equal(await page.locator('dd.run-tags').innerText(), 'none');

    // In the list, three chips at most, then how many more; the run's tags in the admin API's order.
    await page.click('nav a[data-page=runs]');
    const row = page.locator(`table.runs tbody tr[data-run-id="${runIds.ads}"]`);
    await row.waitFor();
    const { body } = await admin(`/runs/${runIds.ads}`);
    const tags = Object.entries((body as { run: { tags: Record<string, string> } }).run.tags).map(([name, value]) => `${name}=${value}`);
    assert.equal(tags.length, 5);
    assert.deepEqual(await row.locator('li.tag').allInnerTexts(), [...tags.slice(0, 3), '+2 more']);
    assert.deepEqual(await page.locator(`table.runs tbody tr[data-run-id="${runIds.searchShort}"] li.tag`).allInnerTexts(), ['project=search']);
    assert.equal(await page.locator(`table.runs tbody tr[data-run-id="${runIds.untagged}"] li.tag`).count(), 0);
    await page.screenshot({ path: join(screenshots, 'runs-tags.png'), fullPage: true });
  });

  test("a group's row links to the run list of its runs: the same period and tenant, task or tag, as the admin API lists them", async () => {
    const now = Date.now();
    const from = dayOf(now - 86_400_000);
    const to = dayOf(now + 86_400_000);
    /** The ids the run list shows, once its first page is in (rows are added together). */
    const listedIds = async (): Promise<string[]> => {
      await page.locator('table.runs tbody tr').first().waitFor();
      return Promise.all((await page.locator('table.runs tbody tr').all()).map(async (row) => (await row.getAttribute('data-run-id')) ?? ''));
    };
    const apiIds = async (query: [string, string][]): Promise<string[]> => {
      const { status, body } = await admin(`/runs?${new URLSearchParams(query).toString()}`);
      assert.equal(status, 200, JSON.stringify(body));
      return (body as { runs: { id: string }[] }).runs.map((run) => run.id);
    };

    await page.goto(`${url}/dashboard/#/spend?${new URLSearchParams({ from, to, by: 'tenant' }).toString()}`);
    await page.locator(`.spend-result[data-by="tenant"][data-since="${from}T00:00:00.000Z"]`).waitFor();
    const byTenant = await assertPageIsApiReport('tenant');
    const acme = byTenant.rows.find((row) => row.group === 'acme');
    assert.equal(acme?.runs, 3);
    await page.locator('table.spend tbody th a', { hasText: 'acme' }).click();
    const period: [string, string][] = [
      ['since', byTenant.since],
      ['until', byTenant.until],
    ];
    await page.waitForURL(`${url}/dashboard/#/runs?${new URLSearchParams([...period, ['tenant', 'acme']]).toString()}`);
    const acmeRuns = await listedIds();
    assert.deepEqual(acmeRuns, await apiIds([...period, ['tenant', 'acme']]));
    assert.deepEqual(new Set(acmeRuns), new Set([runIds.searchLong, runIds.searchShort, runIds.ads]));
    assert.equal(acmeRuns.length, acme?.runs, "as many runs as the Spend row's");
    assert.equal(await page.locator('.run-filters .filters').innerText(), `Only runs created from ${byTenant.since.replace('T', ' ').slice(0, 19)} until ${byTenant.until.replace('T', ' ').slice(0, 19)} UTC, tenant acme.`);
    // The status filter keeps the others; a status none of them has is said with the filters.
    await page.selectOption('#status-filter', 'failed');
    await page.waitForURL(`${url}/dashboard/#/runs?${new URLSearchParams([...period, ['tenant', 'acme'], ['status', 'failed']]).toString()}`);
    await page.locator('.more .notice-ok', { hasText: 'No failed runs created from' }).waitFor();
    assert.match(await page.locator('.more .notice-ok').innerText(), /tenant acme\.$/);
    await page.selectOption('#status-filter', 'ok');
    assert.deepEqual(await listedIds(), await apiIds([...period, ['tenant', 'acme'], ['status', 'ok']]));

    // By principal the run list cannot select, so its rows link nowhere.
    await page.goto(`${url}/dashboard/#/spend?${new URLSearchParams({ from, to, by: 'principal' }).toString()}`);
    await page.locator('.spend-result[data-by="principal"]').waitFor();
    assert.equal(await page.locator('table.spend tbody th').count(), 3);
    assert.equal(await page.locator('table.spend tbody th a').count(), 0);

    // By tag: a value's runs, the markup value's too (as text), and no link for the runs without the tag.
    await page.goto(`${url}/dashboard/#/spend?${new URLSearchParams({ from, to, by: 'tag:project' }).toString()}`);
    await page.locator('.spend-result[data-by="tag:project"]').waitFor();
    const byTag = await assertPageIsApiReport('tag:project');
    assert.equal(await page.locator('table.spend tbody tr.no-group a').count(), 0);
    await page.locator('table.spend tbody th a', { hasText: /^search$/ }).click();
    await page.waitForURL(`${url}/dashboard/#/runs?${new URLSearchParams([['since', byTag.since], ['until', byTag.until], ['tag', 'project=search']]).toString()}`);
    const searchRuns = await listedIds();
    assert.deepEqual(new Set(searchRuns), new Set([runIds.searchLong, runIds.searchShort]));
    assert.deepEqual(searchRuns, await apiIds([['since', byTag.since], ['until', byTag.until], ['tag', 'project=search']]));
    assert.equal(searchRuns.length, byTag.rows.find((row) => row.group === 'search')?.runs);
    await page.goBack();
    await page.locator('.spend-result[data-by="tag:project"]').waitFor();
    await page.locator('table.spend tbody th a', { hasText: hostileValue }).click();
    await page.waitForURL(/#\/runs\?since=/);
    assert.deepEqual(await listedIds(), [runIds.hostile]);
    assert.equal(await page.locator('.run-filters .filters').innerText(), `Only runs created from ${byTag.since.replace('T', ' ').slice(0, 19)} until ${byTag.until.replace('T', ' ').slice(0, 19)} UTC, tag project=${hostileValue}.`);
    assert.equal(await page.locator('main img, main b').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as { keelXss?: number }).keelXss), undefined);
    await page.screenshot({ path: join(screenshots, 'runs-from-spend.png'), fullPage: true });

    // Show every run drops the filters; a period edited by hand into something else shows the API's 400.
    await page.locator('.run-filters a', { hasText: 'Show every run' }).click();
    await page.waitForURL(`${url}/dashboard/#/runs`);
    // The unfiltered page has replaced the filtered one before its rows are read.
    await page.locator('.run-filters').waitFor({ state: 'detached' });
    assert.equal((await listedIds()).length, 5);
    await page.goto(`${url}/dashboard/#/runs?since=yesterday`);
    const refused = page.locator('.more .notice-error[role=alert]');
    await refused.waitFor();
    const { status, body } = await admin('/runs?since=yesterday');
    assert.equal(status, 400);
    assert.equal(await refused.innerText(), (body as { error: { message: string } }).error.message);
  });

  test('no script error and no dialog happened on any page', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(dialogs, []);
  });
});
