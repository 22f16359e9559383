#!/usr/bin/env node
// The `keel` launcher. In a clone of the repository it runs the TypeScript sources (Node strips the
// types); when started by an older Node there (this image ships 20), it re-runs the same command with
// the Node 24 that `npm install` placed in node_modules, so `npx keel …` works from a fresh clone.
// Installed from the package, it runs the compiled dist/ on the current Node, which must be >= 22.18.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Not an ES import: importing node:fs builds its namespace, which loads fs streams and fs/promises
// into every start (docs/architecture.md, CLI start-up). A Node too old for getBuiltinModule imports it.
const { existsSync } = process.getBuiltinModule?.('node:fs') ?? (await import('node:fs'));

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'cli', 'main.ts');
// The package ships dist/ and not src/, so the sources' presence is what marks a clone.
const inClone = existsSync(source);
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const supported = major > 22 || (major === 22 && minor >= 18);

if (supported) {
  // Caches compiled (and type-stripped) modules between invocations: a CLI pays startup every time.
  const { enableCompileCache, registerHooks } = process.getBuiltinModule('node:module');
  enableCompileCache?.();
  // In a clone, tasks modules and examples that import 'keel' must get the sources, not a dist/
  // that may not be built: resolve under the same `keel-source` condition the tests use.
  if (inClone) registerHooks({ resolve: (specifier, context, nextResolve) => nextResolve(specifier, { ...context, conditions: [...context.conditions, 'keel-source'] }) });
  await import(pathToFileURL(inClone ? source : join(root, 'dist', 'cli', 'main.js')).href);
} else {
  const bundled = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!inClone || !existsSync(bundled)) {
    const remedy = inClone ? 'no bundled Node was found; run `npm install` first' : 'install Node 22.18 or later (24 recommended)';
    process.stderr.write(`keel: error [runtime-unsupported]: Node ${process.versions.node} is too old (need >= 22.18); ${remedy}\n`);
    process.exit(1);
  }
  // Imported here: loading child_process costs every other start-up several milliseconds.
  const { spawnSync } = await import('node:child_process');
  const child = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}
