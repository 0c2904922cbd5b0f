import t from 'tap'
import { testGateway } from '../app/testing/gateway.js'
import { api } from '../package/fixtures.test.js'
import { connect, isEvent, listen, type WsClient } from '../realtime/testing/ws-client.js'

// A final status (or a deletion) that cancels the active assignment records
// package.assignment_cancelled with the next seq, so the log, the offer list and
// what the driver hears live agree. Delivering accepted work completes it silently.

t.test('assignments ended by the package', async (t) => {
  const gw = await testGateway(t)
  const url = await listen(t, gw)
  const { call, create, status, events, assign } = api(gw)
  const admin = await gw.user('admin', 'Ada Admin')
  const driver = await gw.user('driver', 'Dana')
  const answer = (tn: string, what: 'accept' | 'decline') => call('POST', `/packages/${tn}/assignment/${what}`, { token: driver.token })
  const history = async (tn: string) => (await call('GET', `/packages/${tn}/assignments`, { token: admin.token })).json().items as Array<{ id: string; state: string }>

  const ws: WsClient = await connect(t, `${url}?token=${driver.token}`)
  ws.send({ op: 'subscribe', channel: `user:${driver.id}` })
  await ws.next((m) => m.type === 'subscribed')
  const heard = (tn: string, type: string) => ws.next((m) => isEvent(`user:${driver.id}`)(m) && (m.event as { trackingNumber: string; type: string }).trackingNumber === tn && (m.event as { type: string }).type === type)

  const seqsAreGapless = (log: Array<{ seq: number }>) => log.every((e, i) => e.seq === i + 1)

  for (const final of ['cancelled', 'returned'] as const) {
    t.test(`${final}: the accepted assignment is cancelled, in the log and live`, async (t) => {
      const { trackingNumber: tn } = await create(admin.token)
      const offered = await assign(admin.token, tn, driver.id)
      t.equal((await answer(tn, 'accept')).statusCode, 200)
      if (final === 'returned') await status(admin.token, tn, { status: 'exception', force: true })
      await status(admin.token, tn, final)
      const log = await events(admin.token, tn)
      t.ok(seqsAreGapless(log), 'seq 1, 2, 3, ... without a gap')
      t.same(log.slice(-2).map((e) => e.type), ['package.status_changed', 'package.assignment_cancelled'])
      t.match(log.at(-1), { data: { assignmentId: offered.id, driverId: driver.id, reason: final }, actor: { type: 'user', id: admin.id, role: 'admin' } })
      t.match(await history(tn), [{ id: offered.id, state: 'cancelled' }], 'the assignment row agrees')
      const live = await heard(tn, 'package.assignment_cancelled')
      t.match(live.event, { seq: log.at(-1)!.seq, data: { assignmentId: offered.id } }, 'the driver hears it on their user channel')
      t.notOk('actor' in (live.event as object), 'without the actor')
    })
  }

  t.test('delivered: an un-accepted offer is cancelled; accepted work completes without an extra event', async (t) => {
    const { trackingNumber: offeredOnly } = await create(admin.token)
    const offer = await assign(admin.token, offeredOnly, driver.id)
    await status(admin.token, offeredOnly, { status: 'delivered', force: true })
    const log = await events(admin.token, offeredOnly)
    t.ok(seqsAreGapless(log))
    t.same(log.slice(-2).map((e) => e.type), ['package.status_changed', 'package.assignment_cancelled'])
    t.match(await history(offeredOnly), [{ id: offer.id, state: 'cancelled' }])
    t.same((await call('GET', '/me/assignments?state=offered', { token: driver.token })).json().items.filter((a: { trackingNumber: string }) => a.trackingNumber === offeredOnly), [], 'gone from the offer list')

    const { trackingNumber: done } = await create(admin.token)
    await assign(admin.token, done, driver.id)
    await answer(done, 'accept')
    for (const s of ['in_transit', 'out_for_delivery', 'delivered']) await status(driver.token, done, s)
    const doneLog = await events(admin.token, done)
    t.equal(doneLog.at(-1)!.type, 'package.status_changed', 'status_changed says it')
    t.notOk(doneLog.some((e) => e.type === 'package.assignment_cancelled'))
    t.match(await history(done), [{ state: 'completed' }])
  })

  t.test('a deletion cancels the offer before package.deleted', async (t) => {
    const { trackingNumber: tn } = await create(admin.token)
    await assign(admin.token, tn, driver.id)
    const { rows } = await gw.pool.query<{ id: string }>('SELECT id FROM packages WHERE tracking_number = $1', [tn])
    t.equal((await call('DELETE', `/packages/${tn}`, { token: admin.token })).statusCode, 204)
    const log = await gw.pool.query<{ seq: string; type: string }>('SELECT seq, type FROM package_events WHERE package_id = $1 ORDER BY seq', [rows[0]!.id])
    t.same(log.rows.map((r) => [Number(r.seq), r.type]), [[1, 'package.created'], [2, 'package.assigned'], [3, 'package.assignment_cancelled'], [4, 'package.deleted']])
  })

  t.test('a package without an active assignment writes no cancellation', async (t) => {
    const { trackingNumber: tn } = await create(admin.token)
    await assign(admin.token, tn, driver.id)
    await answer(tn, 'decline')
    await status(admin.token, tn, 'cancelled')
    t.same((await events(admin.token, tn)).map((e) => e.type), ['package.created', 'package.assigned', 'package.assignment_declined', 'package.status_changed'])
  })
})
