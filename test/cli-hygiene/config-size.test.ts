/**
 * A config file has a size limit, checked before it is parsed: a 3 MB config (55,000 routes) used
 * to be validated for about 20 s before anything else happened. Past the limit it is refused in
 * one line that says so, and nothing is created; a device that never ends is refused the same way.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { assertOneLineError, keel, tasksModule } from './keel-process.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-config-size-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function bigConfig(bytes: number): string {
  const routes: string[] = [];
  let length = 0;
  for (let index = 0; length < bytes; index += 1) {
    const route = JSON.stringify({ name: `route-${index}`, models: ['sim:fast', 'sim:smart'] });
    routes.push(route);
    length += route.length + 1;
  }
  const path = join(folder, `config-${bytes}.json`);
  writeFileSync(path, `{"version":1,"routes":[${routes.join(',')}]}`);
  return path;
}

test('a 3 MB config is refused by its size in one line, and no database is created', async () => {
  const config = bigConfig(3 * 1024 * 1024);
  const database = join(folder, 'never-created.db');
  for (const args of [['demo', '--config', config], ['run', 'durable-count', '--input', '{}', '--tasks', tasksModule, '--config', config]]) {
    const result = await keel([...args, '--db', database], { cwd: folder });
    assertOneLineError(result, 1, 'config-invalid', `keel ${args[0]}`);
    assert.equal(result.stderr, `keel: error [config-invalid]: config file ${config} is larger than 1 MB, the most Keel reads; a config this size is not a config\n`);
  }
  assert.equal(existsSync(database), false);
});

test('a config that is a device without end (/dev/zero) is refused by its size, not read forever', { skip: existsSync('/dev/zero') ? false : 'no /dev/zero here' }, async () => {
  const result = await keel(['demo', '--config', '/dev/zero', '--db', join(folder, 'never-created.db')], { cwd: folder });
  assertOneLineError(result, 1, 'config-invalid', 'keel demo --config /dev/zero');
  assert.match(result.stderr, /config file \/dev\/zero is larger than 1 MB/);
});
