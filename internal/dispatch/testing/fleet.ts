import { randomBytes } from 'node:crypto'
import type { TestGateway } from '../../app/testing/gateway.js'
import { testGateway } from '../../app/testing/gateway.js'
import { WORKER_TEST_ENV } from '../../app/testing/worker.js'
import { DISPATCH_QUEUE } from '../../app/bus.js'
import { roleQueues, parseDelays } from '../../events/topology.js'
import { deleteQueuesAfter, eventually } from '../../platform/testing/broker.js'
import type { TestLike } from '../../platform/testing/harness.js'
import { bearer } from '../../platform/testing/harness.js'

export interface AssignmentJson {
  id: string
  driverId: string
  state: string
  assignedBy: string
}

/** A gateway on the test's vhost (connected), and the REST calls a dispatch test makes. */
export async function fleetGateway(t: TestLike, amqpUrl: string) {
  const names = roleQueues(DISPATCH_QUEUE.role, parseDelays(WORKER_TEST_ENV.WORKER_RETRY_DELAYS_MS!))
  deleteQueuesAfter(t, amqpUrl, [names.work, ...names.delays, names.dead])
  // DISPATCH_AUTO_ASSIGN: the gateway declares dispatch's queue, as in production.
  const gw: TestGateway = await testGateway(t, { ...WORKER_TEST_ENV, WORKER_QUEUES: 'none', DISPATCH_AUTO_ASSIGN: 'true' }, { bus: true, amqpUrl })
  await eventually(() => gw.bus.connected, 'the gateway to connect to the broker')
  const admin = await gw.user('admin')
  const call = async (method: 'GET' | 'POST' | 'PUT', url: string, token: string, payload?: object) =>
    gw.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) })

  return {
    gw,
    admin,
    call,
    /** A driver, on shift unless said otherwise, last seen at `at` (as POST /me/locations records it). */
    async driver(name: string, opts: { onShift?: boolean; at?: { lat: number; lng: number } } = {}) {
      const d = await gw.user('driver', `${name} ${randomBytes(2).toString('hex')}`)
      const res = await call('PUT', '/me/shift', d.token, { onShift: opts.onShift ?? true })
      if (res.statusCode !== 200) throw new Error(`shift: ${res.body}`)
      if (opts.at) {
        await gw.pool.query('INSERT INTO driver_positions (driver_id, lat, lng, recorded_at, last_seen_at) VALUES ($1, $2, $3, now(), now())', [d.id, opts.at.lat, opts.at.lng])
      }
      return d
    },
    /** Takes every driver so far off shift, so a test's fleet is its own. */
    async clearShifts() {
      await gw.pool.query('UPDATE driver_shifts SET on_shift = false')
    },
    /** POST /packages by the admin, from `origin`. */
    async order(origin = { lat: 52.52, lng: 13.405 }, extra: object = {}): Promise<string> {
      const res = await call('POST', '/packages', admin.token, { sender: { name: 'Shop' }, recipient: { name: 'Rita' }, origin, ...extra })
      if (res.statusCode !== 201) throw new Error(`create: ${res.body}`)
      return (res.json() as { trackingNumber: string }).trackingNumber
    },
    async history(tn: string): Promise<AssignmentJson[]> {
      return (await call('GET', `/packages/${tn}/assignments`, admin.token)).json().items
    },
    /** Waits until the package's newest assignment matches `want`. */
    async offered(tn: string, want: (a: AssignmentJson) => boolean, what: string, timeoutMs = 30_000): Promise<AssignmentJson[]> {
      return eventually(async () => {
        const h = await this.history(tn)
        return h.length > 0 && want(h.at(-1)!) && h
      }, what, timeoutMs)
    },
  }
}
