/**
 * `npm run simulate`: creates SIM_PACKAGES packages with one IoT device each
 * through the REST API (as the admin of ADMIN_EMAIL / ADMIN_PASSWORD), drives each
 * from a real city's hub to another city at highway speed, sorts it there, takes
 * it out for delivery at city speed and delivers it; the devices post their fixes
 * in batches with their own API keys, and the statuses move info_received ->
 * in_transit -> out_for_delivery -> delivered. SIM_SPEEDUP compresses time
 * (recordedAt is the real clock; speedMps is the simulated road speed).
 * Only talks to 127.0.0.1. Stops when every package is delivered, or on Ctrl-C.
 */
import { Api } from './client.js'
import { loadSimulatorConfig } from './config.js'
import { Leg, move, pickTrip, roadBetween, type City, type LatLng } from './route.js'

type Phase = 'at_hub' | 'linehaul' | 'sorting' | 'last_mile' | 'delivered'

interface Fix {
  lat: number
  lng: number
  recordedAt: string
  accuracyM: number
  speedMps: number
  headingDeg: number
}

interface Parcel {
  tn: string
  apiKey: string
  from: City
  to: City
  phase: Phase
  /** Simulated seconds left in a dwell phase. */
  dwellS: number
  leg: Leg | undefined
  travelled: number
  pending: Fix[]
}

const config = loadSimulatorConfig()
const api = new Api(config.SIM_API_URL.replace(/\/$/, ''), { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD })
const log = (msg: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${msg}`)
const jitter = (v: number, f: number) => v * (1 - f + Math.random() * 2 * f)
const round = (v: number, digits: number) => Number(v.toFixed(digits))
let stopping = false

async function createParcel(i: number): Promise<Parcel> {
  const { from, to } = pickTrip()
  const pkg = await api.asAdmin<{ trackingNumber: string }>('POST', '/packages', {
    description: `Simulated parcel ${i + 1}: ${from.name} -> ${to.name}`,
    sender: { name: `${from.name} Warehouse`, address: `${from.name} hub` },
    recipient: { name: `Recipient ${i + 1}`, address: `${to.name} city` },
    origin: { lat: from.lat, lng: from.lng, address: `${from.name} hub` },
    destination: { lat: to.lat, lng: to.lng, address: `${to.name} city` },
  })
  const { apiKey } = await api.asAdmin<{ apiKey: string }>('POST', '/devices', { name: `simulator ${pkg.trackingNumber}`, trackingNumber: pkg.trackingNumber })
  await status({ tn: pkg.trackingNumber }, 'info_received', 'Shipping label created')
  log(`${pkg.trackingNumber}: ${from.name} -> ${to.name}`)
  return { tn: pkg.trackingNumber, apiKey, from, to, phase: 'at_hub', dwellS: jitter(15 * 60, 0.5), leg: undefined, travelled: 0, pending: [] }
}

async function status(p: Pick<Parcel, 'tn'>, next: string, note: string, where?: LatLng & { city?: string }): Promise<void> {
  const location = where ? { lat: round(where.lat, 6), lng: round(where.lng, 6), ...(where.city ? { city: where.city } : {}) } : undefined
  await api.asAdmin('POST', `/packages/${p.tn}/status`, { status: next, note, ...(location ? { location } : {}) })
  log(`${p.tn}: ${next} (${note})`)
}

async function flush(p: Parcel): Promise<void> {
  if (p.pending.length === 0) return
  const points = p.pending.splice(0, 1000)
  const res = await api.asDevice<{ accepted: number; duplicates: number }>(p.apiKey, 'POST', '/locations', { points })
  if (res.duplicates > 0) log(`${p.tn}: ${res.duplicates} duplicate fixes`)
}

/** Advances one parcel by `dt` simulated seconds; phase changes post the fixes first, then the status. */
async function step(p: Parcel, dt: number): Promise<void> {
  if (p.phase === 'at_hub' || p.phase === 'sorting') {
    p.dwellS -= dt
    if (p.dwellS > 0) return
    if (p.phase === 'at_hub') {
      p.phase = 'linehaul'
      p.leg = new Leg(roadBetween(p.from, p.to), jitter(24, 0.1))
      await status(p, 'in_transit', `Departed ${p.from.name} hub`, { ...p.from, city: p.from.name })
    } else {
      const dropoff = move(p.to, Math.random() * 360, jitter(5_000, 0.5))
      p.phase = 'last_mile'
      p.leg = new Leg(roadBetween(p.to, dropoff, 0.15), jitter(9, 0.2))
      await status(p, 'out_for_delivery', 'Out for delivery', { ...p.to, city: p.to.name })
    }
    p.travelled = 0
    return
  }
  if (p.phase === 'delivered' || !p.leg) return
  const speed = jitter(p.leg.speedMps, 0.15)
  p.travelled += speed * dt
  const here = p.leg.at(p.travelled)
  const accuracyM = round(jitter(5, 0.5), 1)
  const noisy = move(here, Math.random() * 360, Math.random() * accuracyM)
  p.pending.push({ lat: round(noisy.lat, 6), lng: round(noisy.lng, 6), recordedAt: new Date().toISOString(), accuracyM, speedMps: round(speed, 1), headingDeg: round(here.headingDeg, 1) })
  if (p.travelled < p.leg.length) return
  await flush(p)
  if (p.phase === 'linehaul') {
    p.phase = 'sorting'
    p.dwellS = jitter(30 * 60, 0.3)
    await status(p, 'in_transit', `Arrived at ${p.to.name} hub`, { ...p.to, city: p.to.name })
  } else {
    p.phase = 'delivered'
    await status(p, 'delivered', 'Delivered to the recipient', { ...here, city: p.to.name })
  }
}

async function main(): Promise<void> {
  await api.login()
  log(`creating ${config.SIM_PACKAGES} packages and devices at ${api.base} (x${config.SIM_SPEEDUP} time)`)
  const parcels: Parcel[] = []
  for (let i = 0; i < config.SIM_PACKAGES; i++) parcels.push(await createParcel(i))
  const dt = (config.SIM_TICK_MS / 1000) * config.SIM_SPEEDUP
  let lastFlush = Date.now()
  while (!stopping && parcels.some((p) => p.phase !== 'delivered')) {
    const started = Date.now()
    await Promise.all(parcels.map((p) => step(p, dt).catch((err: unknown) => log(`${p.tn}: ${(err as Error).message}`))))
    if (Date.now() - lastFlush >= config.SIM_BATCH_MS) {
      lastFlush = Date.now()
      await Promise.all(parcels.map((p) => flush(p).catch((err: unknown) => log(`${p.tn}: ${(err as Error).message}`))))
    }
    await new Promise((r) => setTimeout(r, Math.max(0, config.SIM_TICK_MS - (Date.now() - started))))
  }
  await Promise.all(parcels.map((p) => flush(p).catch(() => undefined)))
  log(stopping ? 'stopped' : `all ${parcels.length} packages delivered`)
}

process.once('SIGINT', () => {
  stopping = true
})
process.once('SIGTERM', () => {
  stopping = true
})
main().catch((err: unknown) => {
  console.error(`simulator: ${(err as Error).message}`)
  process.exit(1)
})
