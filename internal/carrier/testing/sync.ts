import type { LightMyRequestResponse } from 'fastify'
import { redisPackageCache } from '../../app/stores.js'
import { bearer, testGateway, type TestGateway, type TestLike } from '../../app/testing/gateway.js'
import { silentLog } from '../../app/testing/worker.js'
import { buildWorker, type Worker } from '../../app/worker.js'
import type { Config } from '../../config/config.js'
import { startSandbox, type Sandbox } from '../sandbox/server.js'
import type { CarrierSync } from '../sync-service.js'

/** A clock tests move by hand; the sandbox and the worker read the same one. */
export interface HandClock {
  ms: number
  now(): Date
  advanceMinutes(min: number): void
}

export interface SyncFixture {
  gw: TestGateway
  sandbox: Sandbox
  clock: HandClock
  worker: Worker
  sync: CarrierSync
  config: Config
  customer: { id: string; token: string }
  admin: { id: string; token: string }
  /** POST /me/trackings with a carrier, as the customer. */
  add(tn: string, carrier?: string): Promise<LightMyRequestResponse>
  get(path: string, token?: string): Promise<LightMyRequestResponse>
  /** A second worker on the same database (its own provider and clock reading). */
  secondWorker(): Worker
  tracking(tn: string): Promise<Record<string, unknown>>
  log(tn: string): Promise<Array<Record<string, unknown>>>
}

/**
 * The next Monday 06:00 UTC: a test of schedule lengths starts there, so a weekend
 * (x1.5 in frequency.ts) does not stretch them on whichever day the suite runs.
 */
function nextMonday(nowMs: number): number {
  const d = new Date(nowMs + 60_000)
  const monday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + ((8 - d.getUTCDay()) % 7), 6)
  return monday > nowMs + 60_000 ? monday : monday + 7 * 86_400_000
}

/**
 * A gateway on its own data, the sandbox provider on port 0, and a worker running
 * the carriers role against both, built as cmd/worker builds it, all on one hand clock
 * (jitter off). Tests drive passes with `sync.runOnce()`.
 */
export async function syncFixture(t: TestLike, env: Partial<Config> = {}, opts: { fromMonday?: boolean } = {}): Promise<SyncFixture> {
  const clock: HandClock = {
    // A minute ahead of the gateway's clock, so what a test adds now is already due.
    ms: opts.fromMonday ? nextMonday(Date.now()) : Date.now() + 60_000,
    now: () => new Date(clock.ms),
    advanceMinutes: (min) => {
      clock.ms += min * 60_000
    },
  }
  const sandbox = await startSandbox({ clock: () => clock.ms })
  t.teardown(() => sandbox.close())
  const carrierEnv = { CARRIER_PROVIDER: 'sandbox', CARRIER_API_URL: sandbox.url, TRACKING_API_TIMEOUT: 2_000, ...env }
  // The gateway reads the same settings (budget, provider for pushes) as the worker.
  const gw = await testGateway(t, Object.fromEntries(Object.entries(carrierEnv).map(([k, v]) => [k, String(v)])))
  const config: Config = { ...gw.config, ...carrierEnv } as Config
  const makeWorker = () => {
    const w = buildWorker({
      config,
      pool: gw.pool,
      bus: gw.bus,
      roles: [],
      pollers: ['carriers'],
      carriers: { cache: redisPackageCache(config, gw.redis), clock: clock.now, random: () => 0.5 },
      log: silentLog,
    })
    t.teardown(() => w.stop())
    return w
  }
  const worker = makeWorker()
  const customer = await gw.user('customer')
  const admin = await gw.user('admin')
  const inject = (method: 'GET' | 'POST', url: string, token?: string, payload?: unknown) =>
    gw.app.inject({ method, url: `/api/v1${url}`, headers: token ? bearer(token) : {}, ...(payload ? { payload: payload as object } : {}) })
  return {
    gw,
    sandbox,
    clock,
    worker,
    sync: worker.carrierSync!,
    config,
    customer,
    admin,
    add: (tn, carrier = 'ups') => inject('POST', '/me/trackings', customer.token, { trackingNumber: tn, carrier }),
    get: (path, token) => inject('GET', path, token),
    secondWorker: makeWorker,
    async tracking(tn) {
      const { rows } = await gw.pool.query('SELECT t.* FROM carrier_trackings t JOIN packages p ON p.id = t.package_id WHERE p.tracking_number = $1', [tn])
      return rows[0] as Record<string, unknown>
    },
    async log(tn) {
      const { rows } = await gw.pool.query('SELECT * FROM carrier_update_log WHERE tracking_number = $1 ORDER BY id', [tn])
      return rows as Array<Record<string, unknown>>
    },
  }
}
