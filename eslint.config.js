// @ts-check
import { dirname, join, relative, resolve, sep } from 'node:path';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

/** Components that import nothing from other components: everything else may depend on them. */
const leafComponents = new Set(['spec', 'errors']);

/**
 * A component's entries besides its index.ts: each is part of its component's surface as index.ts
 * is. They let the CLI's read commands (held near 2x a bare `node -e 0` by bench/cli-start-bench.ts)
 * load the one part of a component they use without the rest its index.ts re-exports: openStore
 * without the PostgreSQL store, reading and checking a journal without its writer, opening sealed
 * fields without redaction and retention (and the audit component they load), checking the audit
 * log without proving runs; `keel spend` its report without the gateway; `keel keys list` a key's spend (and the budget account it is kept in)
 * without the gateway and the ledger; and `keel serve` its metrics without the span exporter,
 * createKeel without the agent loop (agents' output contracts, context assembly, memory), the
 * run tags' rules (request metadata) without the PostgreSQL store, and the creation-time period
 * `keel runs` and `keel spend` check their --since and --until by before they open a store.
 */
const narrowEntries = new Set([
  'src/store/open-store.ts',
  'src/store/sqlite/index.ts',
  'src/store/run-tags.ts',
  'src/store/period.ts',
  'src/journal/hash.ts',
  'src/journal/verify.ts',
  'src/journal/parse.ts',
  'src/journal/read-run.ts',
  'src/redaction/open-sealed-fields.ts',
  'src/audit/audit-settings.ts',
  'src/audit/verify-audit-log.ts',
  'src/telemetry/metrics-entry.ts',
  'src/agent/create-keel.ts',
  'src/gateway/key-usage.ts',
  'src/gateway/admin/spend-report.ts',
  'src/cost/key-budget-scope.ts',
]);

/**
 * Where a file sits: inside component `src/<name>/`, or outside every component (the package
 * root src/index.ts, test/, bench/, examples/ and the rest).
 * @param {string} file absolute path
 * @returns {{ component: string } | { component: undefined }}
 */
function placeOf(file) {
  const parts = relative(root, file).split(sep);
  return parts[0] === 'src' && parts.length >= 3 ? { component: parts[1] ?? '' } : { component: undefined };
}

/**
 * @param {string} from the importing file's directory
 * @param {string} target absolute path
 */
function spelled(from, target) {
  const path = relative(from, target).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/**
 * Components talk to each other only through their folder's index.ts or a narrow entry (above);
 * spec and errors import no other component. A file may reach any file of its own component (its
 * tests and `testing/` helpers included), never another component's internals.
 * @type {import('eslint').Rule.RuleModule}
 */
const componentBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: "Imports across components go through the other component's index.ts; spec and errors import no component." },
    schema: [],
    messages: {
      internals: 'import from {{index}}: {{path}} reaches into the {{component}} component (components talk through their index.ts)',
      leaf: 'src/{{from}} imports nothing from other components, but {{path}} is in {{component}}',
      packageRoot: 'components do not import the package root {{path}}; import the component you need through its index.ts',
      typesOnly: 'src/spec is types only: use `import type`',
    },
  },
  create(context) {
    const file = context.physicalFilename;
    const directory = dirname(file);
    const place = placeOf(file);
    const inSpec = place.component === 'spec' && !file.endsWith('.test.ts');

    /**
     * @param {import('eslint').Rule.Node | import('estree').Node} node
     * @param {unknown} specifier
     */
    function check(node, specifier) {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const target = resolve(directory, specifier);
      const parts = relative(root, target).split(sep);
      if (parts[0] !== 'src' || parts.length < 2) return;
      if (parts.length === 2) {
        if (place.component !== undefined) context.report({ node, messageId: 'packageRoot', data: { path: specifier } });
        return;
      }
      const component = parts[1] ?? '';
      if (component === place.component) return;
      if (place.component !== undefined && leafComponents.has(place.component)) {
        context.report({ node, messageId: 'leaf', data: { from: place.component, path: specifier, component } });
        return;
      }
      const index = join(root, 'src', component, 'index.ts');
      // Test helpers (wire-format servers, test databases) are a component's second entry, for
      // tests and benchmarks only, so they stay out of the package's runtime surface.
      if (target === join(root, 'src', component, 'testing', 'index.ts') && isTestCode(file)) return;
      if (narrowEntries.has(relative(root, target).split(sep).join('/'))) return;
      if (target !== index) context.report({ node, messageId: 'internals', data: { index: spelled(directory, index), path: specifier, component } });
    }

    return {
      ImportDeclaration(node) {
        check(node.source, node.source.value);
        // A value import would put code into a types-only folder (zod's types are fine, zod is not).
        const valueSpecifiers = node.specifiers.filter((specifier) => /** @type {{ importKind?: string }} */ (specifier).importKind !== 'type');
        if (inSpec && /** @type {{ importKind?: string }} */ (node).importKind !== 'type' && (valueSpecifiers.length > 0 || node.specifiers.length === 0)) {
          context.report({ node, messageId: 'typesOnly' });
        }
      },
      ExportAllDeclaration(node) {
        check(node.source, node.source.value);
      },
      ExportNamedDeclaration(node) {
        if (node.source) check(node.source, node.source.value);
      },
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(node.source, node.source.value);
      },
      // `import('../x/y.ts').Type` in a type position.
      /** @param {import('eslint').Rule.Node} node */
      TSImportType(node) {
        const argument = /** @type {{ argument?: { type: string; literal?: { value?: unknown } } }} */ (/** @type {unknown} */ (node)).argument;
        if (argument?.type === 'TSLiteralType') check(node, argument.literal?.value);
      },
    };
  },
};

/**
 * Tests, testing helpers, the root test/ and bench/ folders.
 * @param {string} file
 */
function isTestCode(file) {
  const [top] = relative(root, file).split(sep);
  return file.endsWith('.test.ts') || file.split(sep).includes('testing') || top === 'test' || top === 'bench';
}

/** Keel's own lint rules. */
export const keelPlugin = { rules: { 'component-boundaries': componentBoundaries } };

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.keel/**', 'bench/results/**', 'web/dist/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { keel: keelPlugin },
    rules: {
      // An unawaited append is a lost event.
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test registers tests synchronously; the promises they return are the runner's to await.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Task and tool functions are async by contract even when a body has nothing to await.
      '@typescript-eslint/require-await': 'off',
      // TypeScript already checks names (checkJs covers the JavaScript launcher).
      'no-undef': 'off',
      'keel/component-boundaries': 'error',
    },
  },
  {
    // The dashboard's browser modules (served as they are, no build) and the evidence bundle's
    // verifier (plain JavaScript, typed for TypeScript by its .d.mts): outside the TypeScript
    // project (tsconfig.json), so linted without type information.
    files: ['src/dashboard/assets/**/*.js', 'src/evidence/verify-bundle.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
