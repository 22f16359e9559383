/**
 * Builds the published package into dist/: JavaScript and declarations from src/ (tsconfig.build.json
 * leaves tests and test helpers out), plus the non-TypeScript files the runtime reads beside its
 * modules (the demo's policy documents). Run by `npm run build` and before every `npm pack`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative, sep } from 'node:path';

const root = join(import.meta.dirname, '..');
const sourceDirectory = join(root, 'src');
const outputDirectory = join(root, 'dist');
// Folders that hold only what tests read; never shipped.
const testOnlyFolders = new Set(['testing', 'fixtures', 'conformance']);

rmSync(outputDirectory, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compile = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compile.status !== 0) {
  process.stderr.write('keel build: the TypeScript compiler reported errors (above); dist/ is incomplete\n');
  process.exit(1);
}

const files = readdirSync(sourceDirectory, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
let assets = 0;
for (const entry of files) {
  const path = join(entry.parentPath, entry.name);
  const inside = relative(sourceDirectory, path);
  if (inside.split(sep).some((folder) => testOnlyFolders.has(folder))) continue;
  if (extname(entry.name) === '.ts') continue;
  cpSync(path, join(outputDirectory, inside));
  assets += 1;
}

// tsc rewrites `.ts` specifiers in the JavaScript but not in declarations; editors and tools
// other than tsc expect `.js` there, which tsc resolves to the `.d.ts` beside it.
const specifier = /((?:from\s+|import\s*\(\s*)["'])(\.{1,2}\/[^"']+)\.ts(["'])/g;
const declarations = readdirSync(outputDirectory, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile() && entry.name.endsWith('.d.ts'));
for (const entry of declarations) {
  const path = join(entry.parentPath, entry.name);
  const text = readFileSync(path, 'utf8');
  const rewritten = text.replace(specifier, '$1$2.js$3');
  if (rewritten !== text) writeFileSync(path, rewritten);
}

process.stdout.write(`keel build: dist/ holds ${declarations.length} modules and ${assets} other files\n`);
