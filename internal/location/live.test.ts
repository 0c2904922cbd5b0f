import t, { type Test } from 'tap'
import { api } from '../package/fixtures.test.js'
import { testGateway, type TestGateway } from '../app/testing/gateway.js'
import { connect, isEvent, listen } from '../realtime/testing/ws-client.js'

type Msg = Record<string, unknown>
interface LocationEvent {
  id: string
  type: string
  trackingNumber: string
  seq?: number
  data: Record<string, unknown>
}
const eventOf = (m: Msg) => m.event as LocationEvent
const isLocation = (channel: string) => (m: Msg) => isEvent(channel)(m) && eventOf(m).type === 'package.location'
const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString()

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000 && !check(); i++) await new Promise((r) => setTimeout(r, 20))
  if (!check()) throw new Error(`timed out waiting for ${what}`)
}

async function setup(t: Test, gw: TestGateway) {
  const url = await listen(t, gw)
  const { create } = api(gw)
  const admin = await gw.user('admin')
  const pkg = await create(admin.token)
  const { device, apiKey } = await gw.devices.create({ name: 'tracker', trackingNumber: pkg.trackingNumber })
  const post = (points: unknown[]) => gw.app.inject({ method: 'POST', url: '/api/v1/locations', headers: { 'x-api-key': apiKey }, payload: { points } })
  return { url, admin, tn: pkg.trackingNumber, device, post }
}

t.test('live locations through the broker reach package: subscribers once, and track: never', async (t) => {
  const gw = await testGateway(t, {}, { bus: true })
  const { url, admin, tn, device, post } = await setup(t, gw)
  const member = await connect(t, `${url}?token=${admin.token}`)
  const guest = await connect(t, url)
  member.send({ op: 'subscribe', channel: `package:${tn}` })
  member.send({ op: 'subscribe', channel: 'all' })
  guest.send({ op: 'subscribe', channel: `track:${tn}` })
  await member.collect(2, (m) => m.type === 'subscribed')
  await guest.next((m) => m.type === 'subscribed')

  const skippedBefore = gw.events.counters.skippedOwn
  const newest = { lat: 51.5007, lng: -0.1246, recordedAt: ago(10), accuracyM: 4, speedMps: 9.5, headingDeg: 180 }
  const res = await post([{ lat: 51.5, lng: -0.12, recordedAt: ago(30) }, newest, { lat: 51.49, lng: -0.11, recordedAt: ago(20) }])
  t.equal(res.statusCode, 202)

  const live = eventOf(await member.next(isLocation(`package:${tn}`)))
  t.match(live, { id: String, type: 'package.location', trackingNumber: tn, occurredAt: newest.recordedAt, recordedAt: String })
  t.same(live.data, { ...newest, deviceId: device.id }, 'the newest point of the batch, with its device')
  t.equal(live.seq, undefined, 'live-only: no seq')
  t.equal(eventOf(await member.next(isLocation('all'))).id, live.id, 'the firehose gets it too')

  // A status change goes out after the location; once its bus copy is back, the
  // location's has long been skipped as this gateway's own: nothing may have come twice.
  const status = await gw.app.inject({ method: 'POST', url: `/api/v1/packages/${tn}/status`, headers: { authorization: `Bearer ${admin.token}` }, payload: { status: 'in_transit', location: { lat: 51.5, lng: -0.12, city: 'London' } } })
  t.equal(status.statusCode, 200)
  await guest.next(isEvent(`track:${tn}`))
  await until(() => gw.events.counters.skippedOwn >= skippedBefore + 2, 'the bus copies of the location and the status change')
  t.equal(member.messages.filter(isLocation(`package:${tn}`)).length, 1, 'the location arrived once (routed at once; its bus copy skipped)')

  const guestFrames = guest.messages.filter((m) => m.type === 'event')
  t.same(guestFrames.map((m) => eventOf(m).type), ['package.status_changed'], 'track: got the status change and no location event')
  t.notOk(JSON.stringify(guest.messages).match(/"lat"|"lng"|51\.5/), 'no coordinates anywhere on track:')
  t.equal(eventOf(guestFrames[0]!).data.city, 'London', 'only the city')
})

t.test('a burst of batches is coalesced; the latest point is the last one sent', async (t) => {
  const gw = await testGateway(t, {}, { bus: true })
  const { url, admin, tn, post } = await setup(t, gw)
  const member = await connect(t, `${url}?token=${admin.token}`)
  member.send({ op: 'subscribe', channel: `package:${tn}` })
  await member.next((m) => m.type === 'subscribed')
  const batches = Array.from({ length: 6 }, (_, i) => [{ lat: 10 + i, lng: 20, recordedAt: ago(60 - i) }])
  for (const b of batches) t.equal((await post(b)).statusCode, 202)
  await post([{ lat: -5, lng: -5, recordedAt: ago(120) }]) // older than what was sent: never shown live
  await member.next((m) => isLocation(`package:${tn}`)(m) && eventOf(m).data.lat === 15)
  const received = member.messages.filter(isLocation(`package:${tn}`)).map((m) => eventOf(m).data.lat as number)
  t.ok(received.length >= 1 && received.length <= 6, `${received.length} live events for 6 batches`)
  t.same([...received].sort((a, b) => a - b), received, 'never back in time')
  t.notOk(received.includes(-5), 'an out-of-order batch does not move the live marker back')
})

t.test('without a broker the gateway routes live locations itself', async (t) => {
  const gw = await testGateway(t)
  const { url, admin, tn, post } = await setup(t, gw)
  const member = await connect(t, `${url}?token=${admin.token}`)
  member.send({ op: 'subscribe', channel: `package:${tn}` })
  await member.next((m) => m.type === 'subscribed')
  t.equal((await post([{ lat: 1, lng: 2, recordedAt: ago(1) }])).statusCode, 202)
  const live = eventOf(await member.next(isLocation(`package:${tn}`)))
  t.match(live.data, { lat: 1, lng: 2 })
  t.equal((await post([{ lat: 1, lng: 2, recordedAt: live.data.recordedAt }])).statusCode, 202)
  t.equal(gw.locations.throttle.emitted, 1, 'an all-duplicate batch sends nothing')
})
