import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const services = ['edge-proxy', 'policy', 'approval', 'credential-vending', 'masking', 'recorder', 'slack-bot', 'console'];
const serviceImports = services.map((name) => `@airlock/${name}`);

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'libs/contracts/src/generated/**', '.airlock/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // A library never imports a service: services depend on libraries, never the other way round.
    files: ['libs/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [...serviceImports, '@airlock/cli'] }] },
  },
  ...services.map((name) => ({
    // Services meet only through contracts: none imports another.
    files: [`services/${name}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { paths: [...serviceImports.filter((path) => path !== `@airlock/${name}`), '@airlock/cli'] }] },
  })),
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', performance: 'readonly' } },
  },
);
