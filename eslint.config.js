// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.keel/**', 'bench/results/**', 'web/dist/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
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
    },
  },
);
