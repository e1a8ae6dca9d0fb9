import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The nats client stays behind the transport and the JetStream transport, so that a move to
    // the @nats-io/* v3 packages touches those two folders only.
    files: ['packages/core/src/**/*.ts'],
    ignores: ['packages/core/src/transport/**', 'packages/core/src/jetstream/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['nats', 'nats/*', '@nats-io/*'],
              message: 'only transport/ and jetstream/ import the nats client',
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI's committed CommonJS entry point loads the build.
    files: ['packages/cli/bin/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/test/**/*.ts', 'bench/**', 'scripts/**', 'packages/cli/**'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
