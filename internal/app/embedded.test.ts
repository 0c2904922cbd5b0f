import { spawnSync } from 'node:child_process'
import t from 'tap'
import { projectRoot } from '../platform/paths.js'

// The embedded mode as a new user meets it: a machine with nothing installed. The
// driver runs in a network namespace of its own (nothing on the host's ports is
// there) and keeps tripwires on PostgreSQL's, Redis's and RabbitMQ's ports.

function inNamespace(): { ok: true; stdout: string } | { ok: false; why: string } {
  const probe = spawnSync('unshare', ['-n', 'true'])
  if (probe.error || probe.status !== 0) return { ok: false, why: `cannot make a network namespace (unshare -n needs root): ${probe.error?.message ?? probe.stderr.toString().trim()}` }
  const run = spawnSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" --import tsx internal/app/testing/embedded-smoke.ts`], {
    cwd: projectRoot(),
    env: { PATH: process.env.PATH ?? '' },
    timeout: 170_000,
  })
  return { ok: true, stdout: run.stdout.toString() + run.stderr.toString() }
}

t.test('embedded mode in a network namespace: nothing installed, nothing reached', async (t) => {
  const run = inNamespace()
  if (!run.ok) {
    t.comment(`embedded smoke test skipped: ${run.why}`)
    t.test('the embedded gateway in its own network namespace', { skip: run.why }, async () => undefined)
    return
  }
  const line = run.stdout.split('\n').find((l) => l.startsWith('{'))
  t.ok(line, line ? 'the driver reported' : `the driver reported nothing: ${run.stdout.slice(-2000)}`)
  const r = JSON.parse(line ?? '{}') as Record<string, unknown>
  t.notOk(r.error, `no error${r.error ? `: ${String(r.error)}\n${String(r.output)}` : ''}`)
  t.match(r.ready, { status: 'ok', mode: 'embedded', checks: { postgres: { ok: true, implementation: /PGlite/ }, cache: { ok: true }, bus: { ok: true } } }, '/health/ready reports the embedded parts')
  t.equal(r.created, 201)
  t.equal(r.statusChange, 200)
  t.match(r.wsEvent, { type: 'event', event: { type: 'package.status_changed', seq: 2, data: { status: 'in_transit', note: 'left the depot' } } }, 'the status change reached the WebSocket subscriber')
  t.match(r.chart, { created: 1, delivered: 0 }, 'the metrics role counted the order in process')
  t.equal(r.firstExit, 0, 'SIGTERM: a clean exit')
  t.match(r.afterRestart, { status: 'in_transit', version: 2 }, 'after a restart the package is still there')
  t.same(r.eventsAfterRestart, [[1, 'package.created'], [2, 'package.status_changed']], 'and so is its event log')
  t.equal(r.secondExit, 0)
  t.same(r.touched, { 5432: 0, 6379: 0, 5672: 0 }, 'nothing connected to PostgreSQL, Redis or RabbitMQ ports')
})
