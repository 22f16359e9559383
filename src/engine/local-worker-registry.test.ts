import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { LocalWorkerRegistry } from './local-worker-registry.ts';
import { newWorkerId } from './worker-identity.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-registry-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const registryModule = pathToFileURL(join(import.meta.dirname, 'local-worker-registry.ts')).href;

/**
 * Another process that registers workers in `directory` (`holding` ones report holding leases)
 * and prints `registered`; it then waits, or exits at once with `exit`.
 */
function registeringProcess(directory: string, workers: { id: string; holding: boolean }[], then: 'wait' | 'exit') {
  const source = `
    import { LocalWorkerRegistry } from ${JSON.stringify(registryModule)};
    const registry = new LocalWorkerRegistry(${JSON.stringify(directory)});
    for (const worker of ${JSON.stringify(workers)}) {
      if ((await registry.register(worker.id, () => worker.holding)) === undefined) throw new Error('not registered: ' + worker.id);
    }
    process.stdout.write('registered\\n');
    if (${JSON.stringify(then)} === 'exit') process.exit(0);
    setInterval(() => undefined, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const registered = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('registered')) resolve();
    });
    void exited.then((exit) => reject(new Error(`registering process ended (${exit.code} ${exit.signal}) before registering: ${stderr}`)));
  });
  registered.catch(() => undefined);
  return { child, registered, exited };
}

function freshRegistry(name: string): LocalWorkerRegistry {
  return new LocalWorkerRegistry(join(folder, name));
}

test('a worker of a live process is alive; once the process is SIGKILLed it is dead, until forgotten', async () => {
  const registry = freshRegistry('killed');
  const id = newWorkerId();
  const other = registeringProcess(registry.directory, [{ id, holding: true }], 'wait');
  await other.registered;
  assert.equal(await registry.isDead(id), false);
  other.child.kill('SIGKILL');
  assert.equal((await other.exited).signal, 'SIGKILL');
  assert.equal(await registry.isDead(id), true);
  registry.forget(id);
  assert.equal(await registry.isDead(id), false, 'a forgotten worker is no longer judged');
});

test('an id never registered here is never judged dead, even one naming this host and a pid that no longer exists', async () => {
  const registry = freshRegistry('foreign');
  const gone = spawn(process.execPath, ['-e', '0']);
  const pid = gone.pid;
  await new Promise((resolve) => gone.once('exit', resolve));
  // What a worker with the same hostname in another container could be called.
  assert.equal(await registry.isDead(`${hostname()}/${pid}/0011223344556677`), false);
  assert.equal(await registry.isDead(`${hostname()}/${pid}`), false);
});

test('at a normal exit an idle worker leaves no entry; one still holding leases stays recognisable as dead', async () => {
  const registry = freshRegistry('exit');
  const idle = newWorkerId();
  const holding = newWorkerId();
  const other = registeringProcess(registry.directory, [{ id: idle, holding: false }, { id: holding, holding: true }], 'exit');
  await other.registered;
  assert.equal((await other.exited).code, 0);
  assert.equal(await registry.isDead(idle), false);
  assert.equal(await registry.isDead(holding), true);
});

test('an id live in another process here is not registered again, nor judged dead', async () => {
  const registry = freshRegistry('twice');
  const id = newWorkerId();
  const other = registeringProcess(registry.directory, [{ id, holding: true }], 'wait');
  await other.registered;
  try {
    assert.equal(await registry.register(id, () => true), undefined);
    assert.equal(await registry.isDead(id), false);
  } finally {
    other.child.kill('SIGKILL');
    await other.exited;
  }
  // Its process is gone now: the id may be registered by this one.
  assert.ok((await registry.register(id, () => false)) !== undefined);
  assert.equal(await registry.isDead(id), false);
});

test('a registry folder other users could write to is not used: nothing there is trusted', async () => {
  const registry = freshRegistry('shared');
  const id = newWorkerId();
  // A dead worker's entry, then the folder opened to everyone (as if planted by someone else).
  const other = registeringProcess(registry.directory, [{ id, holding: true }], 'wait');
  await other.registered;
  other.child.kill('SIGKILL');
  await other.exited;
  assert.equal(await registry.isDead(id), true);
  chmodSync(registry.directory, 0o777);
  assert.equal(await registry.isDead(id), false, 'an entry in a folder others can write proves nothing');
  assert.equal(await registry.register(newWorkerId(), () => true), undefined);
});

test('a registration sweeps out entries of workers dead for over a day; fresh and live ones stay', async () => {
  const registry = freshRegistry('sweep');
  const [longDead, recentlyDead, aliveForDays] = [newWorkerId(), newWorkerId(), newWorkerId()];
  const dying = registeringProcess(registry.directory, [{ id: longDead, holding: true }, { id: recentlyDead, holding: true }], 'wait');
  const living = registeringProcess(registry.directory, [{ id: aliveForDays, holding: true }], 'wait');
  await Promise.all([dying.registered, living.registered]);
  dying.child.kill('SIGKILL');
  await dying.exited;
  const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1_000);
  for (const id of [longDead, aliveForDays]) utimesSync(registry.entryPath(id) ?? '', twoDaysAgo, twoDaysAgo);
  try {
    assert.ok((await registry.register(newWorkerId(), () => false)) !== undefined);
    assert.equal(existsSync(registry.entryPath(longDead) ?? ''), false, 'the entry of a worker dead for days is gone');
    assert.equal(await registry.isDead(recentlyDead), true, 'a recent death is still recognised');
    assert.equal(existsSync(registry.entryPath(aliveForDays) ?? ''), true, 'a live worker keeps its entry, however old');
    assert.equal(await registry.isDead(aliveForDays), false);
  } finally {
    living.child.kill('SIGKILL');
    await living.exited;
  }
});
