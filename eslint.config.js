import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.tmp/**', 'eslint.config.js', 'src/aws/sdk/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // ICU: the first collator or locale format makes the service touch MBs of the node
    // binary's ICU data and keep them resident (src/domain/text-order.ts orders text without).
    files: ['src/**'],
    rules: {
      'no-restricted-globals': ['error', { name: 'Intl', message: 'ICU data costs the service MBs resident; see src/domain/text-order.ts' }],
      'no-restricted-properties': [
        'error',
        ...['localeCompare', 'toLocaleString', 'toLocaleDateString', 'toLocaleTimeString', 'toLocaleLowerCase', 'toLocaleUpperCase'].map((property) => ({
          property,
          message: 'ICU data costs the service MBs resident: compareCodeUnits or compareNodeIds (src/domain/text-order.ts)',
        })),
      ],
    },
  },
  {
    files: ['bench/**', 'scripts/**', 'fake-aws/cli.ts', 'fake-aws/sandbox.ts'],
    rules: { 'no-console': 'off' },
  },
);
