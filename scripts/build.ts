/**
 * Builds the published package into dist/: JavaScript and declarations from src/ (tsconfig.build.json
 * leaves tests and test helpers out), the examples compiled into dist/examples/ (`keel demo` runs
 * support-refund from there), and the non-TypeScript files both read beside their modules (Cedar
 * policies, policy documents). Run by `npm run build` and before every `npm pack`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative, sep } from 'node:path';

const root = join(import.meta.dirname, '..');
const outputDirectory = join(root, 'dist');
// Folders that hold only what tests read; never shipped.
const testOnlyFolders = new Set(['testing', 'fixtures', 'conformance']);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** Compiles one project; the examples import 'keel', so they are built against the first one's declarations. */
function compile(project: string): void {
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit' });
  if (result.status === 0) return;
  process.stderr.write(`keel build: the TypeScript compiler reported errors in ${project} (above); dist/ is incomplete\n`);
  process.exit(1);
}

/** Copies the files beside the code that the runtime reads (policies, documents); returns how many. */
function copyAssets(from: string, to: string): number {
  let copied = 0;
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || extname(entry.name) === '.ts' || entry.name.startsWith('.')) continue;
    const path = join(entry.parentPath, entry.name);
    const inside = relative(from, path);
    if (inside.split(sep).some((folder) => testOnlyFolders.has(folder))) continue;
    cpSync(path, join(to, inside));
    copied += 1;
  }
  return copied;
}

/**
 * tsc rewrites `.ts` specifiers in the JavaScript but not in declarations; editors and tools other
 * than tsc expect `.js` there, which tsc resolves to the `.d.ts` beside it. Returns how many there are.
 */
function rewriteDeclarationSpecifiers(): number {
  const specifier = /((?:from\s+|import\s*\(\s*)["'])(\.{1,2}\/[^"']+)\.ts(["'])/g;
  const declarations = readdirSync(outputDirectory, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile() && entry.name.endsWith('.d.ts'));
  for (const entry of declarations) {
    const path = join(entry.parentPath, entry.name);
    const text = readFileSync(path, 'utf8');
    const rewritten = text.replace(specifier, '$1$2.js$3');
    if (rewritten !== text) writeFileSync(path, rewritten);
  }
  return declarations.length;
}

/**
 * Every entry point package.json exports (`keel`, `keel/ai-sdk`) is built from src/ by the first
 * project; one missing from dist/ would install and then fail on import, so the build fails instead.
 */
function checkExportedEntries(): void {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
  const targets = Object.values(manifest.exports).flatMap((entry) => (typeof entry === 'string' ? [] : Object.values(entry))).filter((target) => target.startsWith('./dist/'));
  const missing = targets.filter((target) => !existsSync(join(root, target)));
  if (missing.length === 0) return;
  process.stderr.write(`keel build: package.json exports ${missing.join(', ')}, which the build did not produce\n`);
  process.exit(1);
}

rmSync(outputDirectory, { recursive: true, force: true });
compile('tsconfig.build.json');
const declarations = rewriteDeclarationSpecifiers();
checkExportedEntries();
compile('tsconfig.build-examples.json');
const assets = copyAssets(join(root, 'src'), outputDirectory) + copyAssets(join(root, 'examples'), join(outputDirectory, 'examples'));

process.stdout.write(`keel build: dist/ holds ${declarations} modules with declarations, the examples and ${assets} other files\n`);
