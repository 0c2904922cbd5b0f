import type { AfterShipCheckpoint, AfterShipTracking } from '../aftership.js'

/** One scan of a scripted journey, `atMin` journey minutes after the tracking was created at the sandbox. */
interface Step {
  atMin: number
  tag: string
  subtag: string
  message: string
  city?: string
  country?: string
  lat?: number
  lng?: number
}

export interface Journey {
  name: string
  /** The tracking's tag before its first scan. */
  initialTag: string
  steps: Step[]
  /** Journey minutes from creation to the promised delivery; none when nothing is promised. */
  etaMin?: number
}

const H = 60
const label: Step = { atMin: 0, tag: 'InfoReceived', subtag: 'InfoReceived_001', message: 'Shipping label created, carrier awaiting item' }
const pickup: Step = { atMin: 6 * H, tag: 'InTransit', subtag: 'InTransit_002', message: 'Picked up by carrier', city: 'Chicago', country: 'USA', lat: 41.8781, lng: -87.6298 }
const hub: Step = { atMin: 18 * H, tag: 'InTransit', subtag: 'InTransit_007', message: 'Departed sort facility', city: 'Indianapolis', country: 'USA', lat: 39.7684, lng: -86.1581 }
const arrived: Step = { atMin: 30 * H, tag: 'InTransit', subtag: 'InTransit_003', message: 'Arrived at destination facility', city: 'Columbus', country: 'USA', lat: 39.9612, lng: -82.9988 }
const ofd: Step = { atMin: 44 * H, tag: 'OutForDelivery', subtag: 'OutForDelivery_001', message: 'Out for delivery', city: 'Columbus', country: 'USA', lat: 39.9612, lng: -82.9988 }
const at = (step: Step, atMin: number, patch: Partial<Step> = {}): Step => ({ ...step, ...patch, atMin })

/**
 * The scripted journeys, one per outcome, chosen by the tracking number's prefix
 * (README.md). Numbers with none of these prefixes play `delivered`.
 */
export const JOURNEYS: Readonly<Record<string, Journey>> = {
  SBXPRETRANSIT: { name: 'pre_transit', initialTag: 'Pending', steps: [label], etaMin: 72 * H },
  SBXINTRANSIT: { name: 'in_transit', initialTag: 'Pending', steps: [label, pickup, hub], etaMin: 72 * H },
  SBXOFD: { name: 'out_for_delivery', initialTag: 'Pending', steps: [label, pickup, hub, arrived, ofd], etaMin: 48 * H },
  SBXDELIVERED: {
    name: 'delivered',
    initialTag: 'Pending',
    steps: [label, pickup, hub, arrived, ofd, at(ofd, 48 * H, { tag: 'Delivered', subtag: 'Delivered_001', message: 'Delivered, front door' })],
    etaMin: 48 * H,
  },
  SBXRETURNED: {
    name: 'returned',
    initialTag: 'Pending',
    steps: [
      label, pickup, hub, arrived, ofd,
      at(ofd, 48 * H, { tag: 'AttemptFail', subtag: 'AttemptFail_001', message: 'Delivery attempted, no one available' }),
      at(ofd, 68 * H),
      at(ofd, 72 * H, { tag: 'AttemptFail', subtag: 'AttemptFail_001', message: 'Second delivery attempt failed' }),
      at(arrived, 80 * H, { tag: 'Exception', subtag: 'Exception_010', message: 'Returning to sender' }),
      at(pickup, 120 * H, { tag: 'Exception', subtag: 'Exception_011', message: 'Returned to sender' }),
    ],
    etaMin: 48 * H,
  },
  SBXFAILURE: {
    name: 'failure',
    initialTag: 'Pending',
    steps: [
      label, pickup, hub, arrived, ofd,
      at(ofd, 48 * H, { tag: 'AttemptFail', subtag: 'AttemptFail_001', message: 'Delivery attempted, address not accessible' }),
      at(arrived, 52 * H, { tag: 'Exception', subtag: 'Exception_007', message: 'Incorrect address, shipment held' }),
    ],
    etaMin: 48 * H,
  },
  // The carrier never scans it; AfterShip then gives up with Expired and no checkpoint.
  SBXUNKNOWN: { name: 'unknown', initialTag: 'Pending', steps: [{ atMin: 12 * H, tag: 'Expired', subtag: 'Expired_001', message: '' }] },
}

export function journeyFor(trackingNumber: string): Journey {
  const tn = trackingNumber.toUpperCase()
  const prefix = Object.keys(JOURNEYS).find((p) => tn.startsWith(p))
  return JOURNEYS[prefix ?? 'SBXDELIVERED']!
}

/** How many steps of a journey have happened after `elapsedMin` journey minutes. */
export const stepsReached = (j: Journey, elapsedMin: number): number => j.steps.filter((s) => s.atMin <= elapsedMin).length

/**
 * The AfterShip tracking object after `reached` steps. Scan times are real
 * times: creation plus the step's journey time divided by the speed factor.
 */
export function trackingAt(input: { trackingNumber: string; slug: string; journey: Journey; reached: number; createdAtMs: number; speed: number }): AfterShipTracking {
  const { journey, reached, createdAtMs, speed } = input
  const timeOf = (min: number) => new Date(createdAtMs + (min * 60_000) / speed).toISOString()
  const done = journey.steps.slice(0, reached)
  const last = done[done.length - 1]
  const checkpoints: AfterShipCheckpoint[] = done
    .filter((s) => s.message)
    .map((s) => ({
      checkpoint_time: timeOf(s.atMin),
      message: s.message,
      city: s.city ?? null,
      country_iso3: s.country ?? null,
      coordinate: s.lat === undefined ? null : { latitude: s.lat, longitude: s.lng ?? null },
      tag: s.tag,
      subtag: s.subtag,
    }))
  return {
    tracking_number: input.trackingNumber,
    slug: input.slug,
    tag: last?.tag ?? journey.initialTag,
    subtag: last?.subtag ?? `${journey.initialTag}_001`,
    expected_delivery: journey.etaMin === undefined ? null : timeOf(journey.etaMin),
    checkpoints,
  }
}
