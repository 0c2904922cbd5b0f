import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { STATUSES, TRANSITIONS, isTerminal, type PackageStatus } from './domain.js'
import { api, errorBody } from './fixtures.test.js'

t.test('status transitions', async (t) => {
  const gw = await testGateway(t)
  const { call, create, status, events, get } = api(gw)
  const admin = await gw.user('admin')
  const operator = await gw.user('operator')

  /** A new package in `from`, set up by an admin's forced change where the table does not allow it. */
  const packageIn = async (from: PackageStatus) => {
    const pkg = await create(admin.token)
    return from === 'pending' ? pkg : status(admin.token, pkg.trackingNumber, { status: from, force: true })
  }

  t.test('every transition of the table succeeds', async (t) => {
    for (const from of STATUSES) {
      for (const to of TRANSITIONS[from]) {
        const before = await packageIn(from)
        const after = await status(operator.token, before.trackingNumber, { status: to, note: `${from} to ${to}` })
        t.equal(after.status, to, `${from} -> ${to}`)
        t.equal(after.version, before.version + 1, `${from} -> ${to}: version + 1`)
        const last = (await events(admin.token, before.trackingNumber)).at(-1)!
        t.same(last.data, { status: to, previousStatus: from, note: `${from} to ${to}` }, `${from} -> ${to}: event (not forced)`)
      }
    }
  })

  t.test('every transition outside the table is 409 invalid_transition', async (t) => {
    for (const from of STATUSES) {
      const pkg = await packageIn(from)
      for (const to of STATUSES) {
        if (TRANSITIONS[from].includes(to)) continue
        const res = await call('POST', `/packages/${pkg.trackingNumber}/status`, { token: operator.token, payload: { status: to } })
        t.equal(res.statusCode, 409, `${from} -> ${to}`)
        t.match(res.json(), errorBody(409, 'invalid_transition'))
      }
      const after = await get(admin.token, pkg.trackingNumber)
      t.match(after, { status: from, version: pkg.version }, `${from}: unchanged by the refusals`)
      t.equal((await events(admin.token, pkg.trackingNumber)).length, from === 'pending' ? 1 : 2, `${from}: no events recorded`)
    }
  })

  t.test('terminal statuses refuse everything, saying so', async (t) => {
    for (const terminal of STATUSES.filter(isTerminal)) {
      const pkg = await packageIn(terminal)
      for (const to of STATUSES) {
        const res = await call('POST', `/packages/${pkg.trackingNumber}/status`, { token: admin.token, payload: { status: to } })
        t.equal(res.statusCode, 409, `${terminal} -> ${to}`)
        t.match(res.json().message, new RegExp(`${terminal}, a final status`))
      }
      const same = await call('POST', `/packages/${pkg.trackingNumber}/status`, { token: admin.token, payload: { status: terminal, force: true } })
      t.match(same.json(), errorBody(409, 'invalid_transition'), `${terminal} -> ${terminal} even forced`)
    }
  })

  t.test('an admin forces a transition and the event records it', async (t) => {
    const pkg = await create(admin.token)
    const refused = await call('POST', `/packages/${pkg.trackingNumber}/status`, { token: admin.token, payload: { status: 'delivered' } })
    t.equal(refused.statusCode, 409, 'admins follow the table too unless they force')
    const forced = await status(admin.token, pkg.trackingNumber, { status: 'delivered', force: true, note: 'signed on paper' })
    t.match(forced, { status: 'delivered', version: 2 })
    const reopened = await status(admin.token, pkg.trackingNumber, { status: 'in_transit', force: true })
    t.equal(reopened.status, 'in_transit', 'force reopens a terminal status')
    const allowed = await status(admin.token, pkg.trackingNumber, { status: 'out_for_delivery', force: true })
    const items = await events(admin.token, pkg.trackingNumber)
    t.same(items.slice(1).map((e) => e.data), [
      { status: 'delivered', previousStatus: 'pending', note: 'signed on paper', forced: true },
      { status: 'in_transit', previousStatus: 'delivered', forced: true },
      { status: 'out_for_delivery', previousStatus: 'in_transit' },
    ], 'forced: true only where the table was overridden')
    t.equal(allowed.version, 4)
  })

  t.test('If-Match: a stale version is 412, the current one succeeds', async (t) => {
    const pkg = await create(admin.token)
    const tn = pkg.trackingNumber
    const read = await call('GET', `/packages/${tn}`, { token: admin.token })
    t.equal(read.headers.etag, '"1"', 'GET sends the version as its etag')
    const moved = await status(admin.token, tn, 'info_received', { 'if-match': read.headers.etag as string })
    t.equal(moved.version, 2)
    for (const stale of ['"1"', '1', 'W/"1"']) {
      const res = await call('POST', `/packages/${tn}/status`, { token: operator.token, payload: { status: 'in_transit' }, headers: { 'if-match': stale } })
      t.equal(res.statusCode, 412, `If-Match: ${stale}`)
      t.match(res.json(), errorBody(412, 'version_mismatch'))
    }
    t.equal((await get(admin.token, tn)).status, 'info_received', 'the refused update did not apply')
    const current = await status(operator.token, tn, 'in_transit', { 'if-match': '2' })
    t.match(current, { status: 'in_transit', version: 3 })
    const any = await status(operator.token, tn, 'in_transit', { 'if-match': '*' })
    t.match(any, { status: 'in_transit', version: 4 }, 'If-Match: * matches whatever version the package is at')
    const missing = await call('POST', '/packages/NOSUCHPKG42/status', { token: operator.token, payload: { status: 'in_transit' }, headers: { 'if-match': '*' } })
    t.equal(missing.statusCode, 404, 'If-Match: * on a package that does not exist is still 404')
    const garbage = await call('POST', `/packages/${tn}/status`, { token: operator.token, payload: { status: 'in_transit' }, headers: { 'if-match': 'abc' } })
    t.match(garbage.json(), errorBody(400, 'validation_failed'), 'a malformed If-Match is 400')
  })

  t.test('a retried status POST with the same Idempotency-Key records one event', async (t) => {
    const pkg = await create(admin.token)
    await status(admin.token, pkg.trackingNumber, 'in_transit')
    const send = () => call('POST', `/packages/${pkg.trackingNumber}/status`, { token: operator.token, payload: { status: 'in_transit', note: 'scan 1' }, headers: { 'idempotency-key': 'scan-1' } })
    const first = await send()
    const retry = await send()
    t.equal(first.statusCode, 200)
    t.equal(retry.statusCode, 200)
    t.equal(retry.headers['idempotent-replay'], 'true')
    t.equal(retry.json().version, first.json().version, 'the stored answer')
    t.equal((await events(admin.token, pkg.trackingNumber)).filter((e) => e.data.note === 'scan 1').length, 1, 'one checkpoint, not two')
  })

  t.test('occurredAt: past is fine, more than 5 minutes ahead is 400', async (t) => {
    const pkg = await create(admin.token)
    const ahead = new Date(Date.now() + 10 * 60_000).toISOString()
    const res = await call('POST', `/packages/${pkg.trackingNumber}/status`, { token: admin.token, payload: { status: 'in_transit', occurredAt: ahead } })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/occurredAt' }] })
    const malformed = await call('POST', `/packages/${pkg.trackingNumber}/status`, { token: admin.token, payload: { status: 'in_transit', occurredAt: 'yesterday' } })
    t.match(malformed.json(), { ...errorBody(400, 'validation_failed'), details: [{ path: '/occurredAt' }] })
    const slightly = new Date(Date.now() + 60_000).toISOString()
    t.equal((await status(admin.token, pkg.trackingNumber, { status: 'in_transit', occurredAt: slightly })).status, 'in_transit', 'clock skew within 5 minutes is accepted')
    const past = '2024-05-06T07:08:09.000Z'
    await status(admin.token, pkg.trackingNumber, { status: 'in_transit', occurredAt: past })
    t.equal((await events(admin.token, pkg.trackingNumber)).at(-1)!.occurredAt, past, 'the event keeps the given time')
    t.equal((await get(admin.token, pkg.trackingNumber)).version, 3, 'the refused ones left no version behind')
  })

  t.test('bad bodies are 400 with paths', async (t) => {
    const pkg = await create(admin.token)
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ status: 'teleported' }, '/status'],
      [{}, '/status'],
      [{ status: 'in_transit', location: { lat: 91, lng: 0 } }, '/location/lat'],
      [{ status: 'in_transit', location: { lat: 0, lng: -180.5 } }, '/location/lng'],
      [{ status: 'in_transit', location: { lat: 0 } }, '/location/lng'],
    ]
    for (const [payload, path] of cases) {
      const res = await call('POST', `/packages/${pkg.trackingNumber}/status`, { token: admin.token, payload })
      t.equal(res.statusCode, 400, JSON.stringify(payload))
      t.ok(res.json().details.some((d: { path: string }) => d.path === path), `${JSON.stringify(payload)} names ${path}`)
    }
    const unknown = await call('POST', '/packages/NOSUCHPKG123/status', { token: admin.token, payload: { status: 'in_transit' } })
    t.match(unknown.json(), errorBody(404, 'not_found'))
  })

  t.test('a location moves lastLocation forward only', async (t) => {
    const pkg = await create(admin.token)
    const tn = pkg.trackingNumber
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString()
    const t10 = minutesAgo(10)
    const first = await status(admin.token, tn, { status: 'in_transit', location: { lat: 10.5, lng: 20.5 }, occurredAt: t10 })
    t.same(first.lastLocation, { lat: 10.5, lng: 20.5, recordedAt: t10 })
    const older = await status(admin.token, tn, { status: 'in_transit', location: { lat: 11.5, lng: 21.5 }, occurredAt: minutesAgo(20) })
    t.same(older.lastLocation, first.lastLocation, 'an older location does not replace a newer one')
    t.equal(older.version, first.version + 1, 'but the update itself is recorded')
    const none = await status(admin.token, tn, { status: 'in_transit' })
    t.same(none.lastLocation, first.lastLocation, 'an update without a location keeps it')
    const t5 = minutesAgo(5)
    const newer = await status(admin.token, tn, { status: 'in_transit', location: { lat: -33.9, lng: 151.2 }, occurredAt: t5 })
    t.same(newer.lastLocation, { lat: -33.9, lng: 151.2, recordedAt: t5 }, 'a newer location replaces it')
    t.same((await get(admin.token, tn)).lastLocation, newer.lastLocation, 'and is what GET returns')
  })

  t.test('version increments by one per update and updatedAt moves', async (t) => {
    let pkg = await create(admin.token)
    const path = ['info_received', 'in_transit', 'in_transit', 'out_for_delivery', 'failed_attempt', 'out_for_delivery', 'delivered'] as const
    for (const [i, to] of path.entries()) {
      const next = await status(operator.token, pkg.trackingNumber, to)
      t.equal(next.version, i + 2, `${to}: version ${i + 2}`)
      t.ok(next.updatedAt >= pkg.updatedAt, 'updatedAt does not go back')
      t.equal(next.createdAt, pkg.createdAt, 'createdAt stays')
      pkg = next
    }
    t.same((await events(admin.token, pkg.trackingNumber)).map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8])
  })
})

t.test('20 concurrent checkpoints on one package all land, in seq order', async (t) => {
  const gw = await testGateway(t)
  const { call, create, status, events, get } = api(gw)
  const admin = await gw.user('admin')
  const service = await gw.serviceToken()
  const pkg = await create(admin.token)
  await status(admin.token, pkg.trackingNumber, 'in_transit')
  const n = 20
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      call('POST', `/packages/${pkg.trackingNumber}/status`, { token: service, payload: { status: 'in_transit', note: `checkpoint ${i}` } }),
    ),
  )
  t.same(results.map((r) => r.statusCode), Array(n).fill(200), 'every update succeeded')
  const versions = results.map((r) => r.json().version as number).sort((a, b) => a - b)
  t.same(versions, Array.from({ length: n }, (_, i) => i + 3), 'each got its own version')
  const after = await get(admin.token, pkg.trackingNumber)
  t.equal(after.version, 1 + 1 + n, 'version = 1 + number of updates')
  const items = await events(admin.token, pkg.trackingNumber)
  t.same(items.map((e) => e.seq), Array.from({ length: n + 2 }, (_, i) => i + 1), 'seqs are 1..n+2 with no gaps')
  const notes = items.slice(2).map((e) => e.data.note as string).sort()
  t.same(notes, Array.from({ length: n }, (_, i) => `checkpoint ${i}`).sort(), 'every checkpoint is recorded once')
})

t.test('/metrics counts the status changes and the shared statements that wrote them', async (t) => {
  const gw = await testGateway(t)
  const { create, status } = api(gw)
  const admin = await gw.user('admin')
  const read = async () => {
    const text = (await gw.app.inject({ method: 'GET', url: '/metrics' })).body
    const value = (name: string) => {
      const m = new RegExp(`^delivertrack_status_write_${name}_total (\\d+)$`, 'm').exec(text)
      if (!m) throw new Error(`delivertrack_status_write_${name}_total is missing from /metrics`)
      return Number(m[1])
    }
    return { statements: value('statements'), changes: value('changes'), failed: value('failed') }
  }
  const pkgs = await Promise.all(Array.from({ length: 8 }, () => create(admin.token)))
  const before = await read()
  // Sent at once, so they may share statements (postgres-batch.test.ts checks that they do).
  await Promise.all(pkgs.map((p) => status(admin.token, p.trackingNumber, { status: 'in_transit' })))
  const after = await read()
  t.equal(after.changes - before.changes, 8, 'each change counted once')
  const statements = after.statements - before.statements
  t.ok(statements >= 1 && statements <= 8, `the statements that carried them are counted (${statements})`)
  t.equal(after.failed, before.failed, 'no statement failed')
})
