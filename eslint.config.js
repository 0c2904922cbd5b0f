// Lint rules, including the layer rule of docs/architecture.md: domain, ports and
// services never import adapters, clients or the HTTP framework.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const adapterModules = [
  { group: ['fastify', 'fastify-plugin', '@fastify/*'], message: 'domain and service code must not depend on the HTTP framework' },
  { group: ['pg', 'ioredis', 'mongodb', 'rascal', 'amqplib', '@aws-sdk/*'], message: 'domain and service code talk to infrastructure only through ports' },
  {
    group: ['./postgres.js', './redis.js', './mongo.js', './http.js', './memory.js', '**/postgres.js', '**/redis.js', '**/mongo.js', '**/http.js', '**/*-postgres.js', '**/*-redis.js', '**/*-memory.js', '**/platform/db/*', '**/platform/cache/*', '**/platform/bus/*'],
    message: 'domain and service code must not import adapters; depend on a port from ports.ts',
  },
]

export default tseslint.config(
  { ignores: ['dist/**', 'dist-test/**', 'node_modules/**', 'web/dist/**', 'coverage/**', '.tap/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', NodeJS: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['internal/*/domain.ts', 'internal/*/ports.ts', 'internal/*/service.ts', 'internal/*/*-service.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: adapterModules }] },
  },
  {
    files: ['**/*.test.ts', 'scripts/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
)
