// Keeps node_modules/.bin/node pointing at the bundled Node 24 (devDependency `node`).
// The Node 22 devDependency (`node22`, an alias of the same package, for the package tests)
// declares the same `node` bin; npm links both, and when an install touches only node22 its link
// wins, so `npm test` would quietly run on 22. Runs as `prepare` (after `npm install` and `npm ci`,
// never in a project that installs keel). `npm install <name>` skips it: run `npm run prepare`.
import { existsSync, lstatSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '..', 'node_modules', '.bin');
const wanted = join('..', 'node', 'bin', 'node');
const link = join(bin, 'node');

// Windows links bins through .cmd shims, not symlinks; the package tests name each Node by path anyway.
if (process.platform !== 'win32' && existsSync(join(bin, wanted))) {
  const current = lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() === true ? readlinkSync(link) : undefined;
  if (current !== wanted) {
    rmSync(link, { force: true });
    symlinkSync(wanted, link);
    process.stdout.write(`node_modules/.bin/node now points at the bundled Node 24 (was ${current ?? 'missing'})\n`);
  }
}
