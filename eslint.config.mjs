import tseslint from 'typescript-eslint';
import brigade from './eslint/no-import-cycle.mjs';

/**
 * The folders of packages/core/src, lowest first. A folder imports only folders of lower layers
 * (never its own layer's other folders, never one above): shared pieces sit below their users,
 * and no two folders import each other. The entry points (index.ts, internal.ts) sit on top.
 */
const CORE_LAYERS = [
  ['common'],
  ['transport', 'metadata'],
  ['discovery', 'decorators'],
  ['jetstream'],
  // One message's way through its handler: context, middleware, schemas, the invoker.
  ['pipeline'],
  // What observes the pipeline (tracing, metrics), what feeds it (bindings), what sends (the Bus).
  ['observability', 'delivery', 'bus'],
  // Assembles the others: the app, the client, their lifecycle and the ops endpoints.
  ['app'],
];

/** The nats client stays behind these two, so a move to the @nats-io/* v3 packages touches only them. */
const NATS_FOLDERS = new Set(['transport', 'jetstream']);

const NATS_IMPORTS = {
  group: ['nats', 'nats/*', '@nats-io/*'],
  message: 'only transport/ and jetstream/ import the nats client',
};

function coreLayers() {
  return CORE_LAYERS.flatMap((layer, rank) => {
    const below = CORE_LAYERS.slice(0, rank).flat();
    return layer.map((folder) => {
      const upward = {
        group: ['../*', '../../*', ...below.flatMap((b) => [`!../${b}`, `!../${b}/*`])],
        message: `${folder}/ imports only from ${below.length ? below.join(', ') : 'its own folder'}: move what both need below them`,
      };
      const patterns = NATS_FOLDERS.has(folder) ? [upward] : [upward, NATS_IMPORTS];
      return {
        files: [`packages/core/src/${folder}/**/*.ts`],
        rules: { 'no-restricted-imports': ['error', { patterns }] },
      };
    });
  });
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.demo/**'] },
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
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Told, consistent-type-imports leaves alone the imports that decorator metadata needs at run
    // time (a class named as a constructor parameter's type is what tsyringe injects).
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true },
    },
  },
  ...coreLayers(),
  {
    // Within a folder, the layer table sees nothing: no file may import its way back to itself.
    files: ['packages/*/src/**/*.ts'],
    plugins: { brigade },
    rules: { 'brigade/no-import-cycle': 'error' },
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
