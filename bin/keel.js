#!/usr/bin/env node
// The `keel` launcher. Keel targets Node 24 (node:sqlite, type stripping); when started by an
// older Node (this image ships 20), re-run the same command with the Node 24 that `npm install`
// placed in node_modules, so `npx keel …` works from a fresh clone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const supported = major > 22 || (major === 22 && minor >= 18);

if (supported) {
  // Caches compiled (and type-stripped) modules between invocations: a CLI pays startup every time.
  const { enableCompileCache } = await import('node:module');
  enableCompileCache?.();
  await import(join(root, 'src', 'cli', 'main.ts'));
} else {
  const bundled = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(bundled)) {
    process.stderr.write(
      `keel: error [runtime-unsupported]: Node ${process.versions.node} is too old (need >= 22.18) and no bundled Node was found; run \`npm install\` first\n`,
    );
    process.exit(1);
  }
  const child = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}
