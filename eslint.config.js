// Lint: typescript-eslint recommended, plus the layer rules of docs/architecture.md §4.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noExpress = { group: ['express', 'express/*', 'passport', 'passport-*'], message: 'Only server/ may use express or passport (docs/architecture.md §4).' };
// The server consumes the validator workspace through its package name and exports, never by path.
const viaPackage = { group: ['**/stix-schemas', '**/stix-schemas/*'], message: "Import the validator as 'stix2-validator-ts' (its package.json exports), not by path." };
const ours = (dirs) => dirs.map((d) => ({ group: [`**/${d}/*`, `../${d}/*`, `../../${d}/*`], message: `This layer may not import ${d}/ (docs/architecture.md §4).` }));

export default tseslint.config(
  { ignores: ['dist/**', 'stix-schemas/dist/**', 'node_modules/**', 'bench/results/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', require: 'readonly', module: 'writable' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['server/**/*.ts', 'taxii/**/*.ts', 'desk/**/*.ts', 'changes/**/*.ts', 'webhooks/**/*.ts', 'collections/**/*.ts', 'stix-schemas/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['stix-schemas/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noExpress, ...ours(['server', 'taxii', 'collections'])] }] },
  },
  {
    files: ['collections/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noExpress, viaPackage, ...ours(['server', 'taxii'])] }] },
  },
  {
    files: ['taxii/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noExpress, viaPackage, ...ours(['server', 'desk', 'changes', 'webhooks'])] }] },
  },
  {
    // The desk and change delivery sit beside taxii/: they may use TAXII's access rules and errors, never the reverse.
    files: ['desk/**/*.ts', 'changes/**/*.ts', 'webhooks/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noExpress, viaPackage, ...ours(['server'])] }] },
  },
  {
    files: ['server/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [viaPackage] }] },
  },
  {
    // The client library ships on its own (package.json "exports"): nothing of the server, no console.
    files: ['client/**/*.ts'],
    rules: { 'no-console': 'error', 'no-restricted-imports': ['error', { patterns: [noExpress, ...ours(['server', 'taxii', 'collections', 'stix-schemas', 'desk', 'changes', 'webhooks'])] }] },
  },
  {
    // The console runs in the browser and reaches the server only through its public APIs.
    files: ['console/src/**/*.ts', 'console/src/**/*.tsx'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noExpress, ...ours(['server', 'taxii', 'desk', 'changes', 'webhooks', 'collections', 'stix-schemas'])] }] },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
