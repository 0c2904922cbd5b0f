// Import rules between the folders of internal/ and cmd/, checked by `npm run depcruise`
// (make deps, part of make test). Each top folder of internal/ ends its README.md with a
// "May import:" line; the allow-lists below are those lines, and change with them. Within
// a folder, "domain, ports and service never import adapters or Fastify" is ESLint's rule.
// Tests and testing/ helpers build whole gateways: the allow-lists leave them out, the
// file-cycle rule does not.
//
// Folder cycles: the tool finds cycles between files here, and between folders only over
// the shipped code (.dependency-cruiser-folders.js, the second pass). The allow-lists rule
// them out for the top folders in any case, as long as they stay layered with no way back
// up: config < platform < events < auth < package < device < location < delivery, proof; realtime,
// archive, notify, webhook, inbox, charts, ops, carrier, dispatch and statusupdate use only layers below them; app < cmd. A new entry must keep it so.

// scripts/cluster/ is a test too (npm run test:cluster), kept apart from the suite's *.test.ts.
export const test = ['\\.test\\.ts$', '/testing/', '^scripts/cluster/']
const own = (folder) => `^internal/${folder}/`
const base = ['^internal/platform/', '^internal/config/', '^internal/events/']

/** Files in `folder` may import their own folder, npm packages, node builtins and `allowed`. */
function mayImport(folder, allowed, comment) {
  return {
    name: `${folder}-may-import`,
    comment,
    severity: 'error',
    from: { path: own(folder), pathNot: test },
    to: { path: '^(internal|cmd|scripts|web)/', pathNot: [own(folder), ...allowed] },
  }
}

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'files that import each other, directly or through others (tests included)',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to no file would slip past every rule below',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-test-code',
      comment: 'test files and testing/ helpers stay out of the build (tsconfig.build.json), so shipped code must not import them',
      severity: 'error',
      from: { pathNot: test },
      to: { path: [...test, 'contract\\.ts$'] },
    },
    {
      name: 'not-to-dev-dep',
      comment: 'a production install (npm ci --omit=dev) has no devDependencies; type-only imports vanish in the build',
      severity: 'error',
      from: { path: '^(internal|cmd)/', pathNot: [...test, 'contract\\.ts$'] },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only', 'type-import'] },
    },
    mayImport('config', [], 'the bottom layer: npm packages only'),
    mayImport('platform', ['^internal/config/'], 'infrastructure without business rules: never a domain, events or app'),
    mayImport('events', ['^internal/platform/'], 'the event path sits on platform only; domains plug into it'),
    mayImport('auth', base, 'no other domain'),
    mayImport('package', [...base, '^internal/auth/(domain|authenticate)\\.ts$'], 'auth: the principal, and the bearer hook for http.ts'),
    mayImport('device', [...base, '^internal/package/domain\\.ts$'], 'package: tracking numbers'),
    mayImport('location', [
      ...base,
      '^internal/package/(domain|schemas|postgres-rows)\\.ts$',
      '^internal/auth/(domain|authenticate)\\.ts$',
      '^internal/device/(domain|api-key)\\.ts$',
    ], 'package: the domain, its route schemas and the SQL form of the forward-only rule; auth and device: the principal and the two request hooks'),
    mayImport('delivery', [
      ...base,
      '^internal/package/(domain|entity|ports|schemas|postgres)\\.ts$',
      '^internal/auth/(domain|authenticate)\\.ts$',
      '^internal/location/(schemas|domain)\\.ts$',
    ], 'package: the entity it changes, its row lock (postgres.ts updateLocked) and route schemas; auth: the principal and the bearer hook; location: the ingest body and the point it stores'),
    mayImport('proof', [
      ...base,
      '^internal/package/domain\\.ts$',
      '^internal/auth/(domain|authenticate)\\.ts$',
    ], 'package: the Package type (access comes through a port); auth: the principal and the bearer hook for http.ts'),
    mayImport('realtime', [...base, '^internal/auth/domain\\.ts$'], 'auth: the principal'),
    mayImport('archive', base, 'a worker role: events and platform only'),
    mayImport('notify', base, 'a worker role: events and platform only'),
    mayImport('webhook', base, 'a worker role and its admin routes: events and platform only'),
    mayImport('inbox', [...base, '^internal/auth/authenticate\\.ts$'], 'a worker role and its /me routes: events and platform; auth: the bearer hook for http.ts'),
    mayImport('charts', base, 'a worker role and its chart routes: events and platform only'),
    mayImport('ops', base, 'the stats arrive through a port the composition root fills'),
    mayImport('carrier', [...base, '^internal/package/(domain|entity|ports|postgres)\\.ts$'], 'carrier trackings: package for the status names, the rules a checkpoint goes through, the sync-state port it fills and the row lock (postgres.ts updateLocked) its answers are written under'),
    mayImport('statusupdate', [
      ...base,
      '^internal/package/(domain|entity|ports|postgres)\\.ts$',
      '^internal/auth/(domain|authenticate)\\.ts$',
    ], 'asynchronous status updates: package for the status names, the change it writes and the row lock (postgres.ts updateLocked) it writes under (the rules themselves come through a port); auth: the principal and the bearer hook'),
    mayImport('dispatch', [
      ...base,
      '^internal/delivery/domain\\.ts$',
      '^internal/package/domain\\.ts$',
      '^internal/auth/domain\\.ts$',
    ], 'the dispatch service: the assignment and package types; the assignment service itself comes through a port the composition root fills'),
    mayImport('app', ['^internal/'], 'the composition roots: everything under internal/, never cmd'),
    {
      name: 'cmd-may-import',
      comment: 'a command wires through app, config, platform, the role queues, and the archive reader it needs; never another command',
      severity: 'error',
      from: { path: '^cmd/([^/]+)/', pathNot: test },
      to: {
        path: '^(internal|cmd|scripts|web)/',
        pathNot: [
          '^cmd/$1/',
          '^internal/(app|config|platform)/',
          '^internal/events/topology\\.ts$',
          '^internal/archive/(ports|reader|fs|s3|parquet)\\.ts$',
          '^internal/carrier/sandbox/server\\.ts$',
        ],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a folder that names another's types depends on it.
    tsPreCompilationDeps: true,
    // Resolves NodeNext's `./x.js` specifiers to the `./x.ts` files.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts', '.json'],
    },
    skipAnalysisNotInRules: true,
  },
}
