import { checkpoint, snapshot, statusFromAfterShip, type CarrierSnapshot } from './domain.js'
import { ProviderPolicy, type PolicyOptions } from './policy.js'
import { BadRequest, SecondCallRefused, type BreakerState, type CarrierProvider, type TrackOptions, type WebhookUpdate } from './ports.js'
import { header, hmac, requestJson, safeEqual, type JsonAnswer } from './provider-http.js'

/**
 * AfterShip Tracking API, version 2023-10 (the last one with the
 * `/trackings/:slug/:tracking_number` paths and the `{meta, data: {tracking}}`
 * envelope; README.md lists the pages followed).
 */
export const AFTERSHIP_API_URL = 'https://api.aftership.com/tracking/2023-10'
export const AFTERSHIP_SIGNATURE_HEADER = 'aftership-hmac-sha256'

/** The checkpoint fields we read; both coordinate spellings AfterShip has used are accepted. */
export interface AfterShipCheckpoint {
  checkpoint_time?: string | null
  message?: string | null
  city?: string | null
  country_iso3?: string | null
  country_name?: string | null
  coordinate?: { latitude?: number | null; longitude?: number | null } | null
  coordinates?: number[] | null
  tag?: string
  subtag?: string
}

export interface AfterShipTracking {
  tracking_number: string
  slug: string
  tag?: string
  subtag?: string
  expected_delivery?: string | null
  courier_estimated_delivery_date?: { estimated_delivery_date?: string | null } | null
  checkpoints?: AfterShipCheckpoint[]
}

export interface AfterShipOptions extends PolicyOptions {
  apiKey: string
  webhookSecret: string
  baseUrl?: string
  /** `sandbox` when this adapter talks to the sandbox provider. */
  name?: string
}

/** Our snapshot of an AfterShip tracking object. */
export function afterShipSnapshot(t: AfterShipTracking): CarrierSnapshot {
  const cps = t.checkpoints ?? []
  return snapshot({
    status: statusFromAfterShip(t.tag, t.subtag),
    checkpoints: cps.map((cp) =>
      checkpoint({
        occurredAt: cp.checkpoint_time,
        message: cp.message,
        city: cp.city,
        country: cp.country_iso3 ?? cp.country_name,
        lat: cp.coordinate?.latitude ?? cp.coordinates?.[0],
        lng: cp.coordinate?.longitude ?? cp.coordinates?.[1],
        status: cp.tag ? statusFromAfterShip(cp.tag, cp.subtag) : undefined,
      }),
    ),
    estimatedDelivery: t.expected_delivery ?? t.courier_estimated_delivery_date?.estimated_delivery_date,
    // AfterShip gives up on a number the carrier never showed with Expired and not one scan.
    notFound: t.tag === 'Expired' && cps.length === 0,
  })
}

interface Envelope {
  meta?: { code?: number; message?: string; type?: string }
  data?: { tracking?: AfterShipTracking }
}

const metaCode = (answer: JsonAnswer) => (answer.body as Envelope | undefined)?.meta?.code

/** AfterShip's meta codes for "Tracking already exists" (a create that lost a race) and "Tracking does not exist". */
const ALREADY_EXISTS = 4003
const DOES_NOT_EXIST = 4004

export class AfterShipProvider implements CarrierProvider {
  readonly name: string
  private readonly policy: ProviderPolicy
  private readonly base: string

  constructor(private readonly opts: AfterShipOptions) {
    this.name = opts.name ?? 'aftership'
    this.policy = new ProviderPolicy(this.name, opts)
    this.base = (opts.baseUrl ?? AFTERSHIP_API_URL).replace(/\/+$/, '')
  }

  /**
   * A number asked about before is read (GET); a new one is registered (POST, which
   * answers with the tracking). Either costs one call; a second is made only when
   * the guess was wrong (removed at AfterShip, or registered elsewhere) and the
   * budget allows it.
   */
  async track(carrier: string, trackingNumber: string, opts: TrackOptions = {}): Promise<CarrierSnapshot> {
    const slug = carrier.toLowerCase()
    const path = `/trackings/${encodeURIComponent(slug)}/${encodeURIComponent(trackingNumber)}`
    const read = () => this.call('GET', path, undefined, opts.signal)
    const register = () => this.call('POST', '/trackings', { tracking: { slug, tracking_number: trackingNumber } }, opts.signal)
    const again = async (call: () => Promise<JsonAnswer>) => {
      if (opts.mayCallAgain && !(await opts.mayCallAgain())) throw new SecondCallRefused('the tracking needs a second call and the day\'s budget has none left')
      return call()
    }
    if (opts.known) {
      const got = await read()
      return this.tracking(got.status === 404 && metaCode(got) === DOES_NOT_EXIST ? await again(register) : got)
    }
    const created = await register()
    return this.tracking(created.status === 400 && metaCode(created) === ALREADY_EXISTS ? await again(read) : created)
  }

  verifyWebhook(headers: Record<string, string | string[] | undefined>, rawBody: Buffer | string): boolean {
    if (!this.opts.webhookSecret) return false
    return safeEqual(header(headers, AFTERSHIP_SIGNATURE_HEADER), hmac(this.opts.webhookSecret, rawBody, 'base64'))
  }

  /** The push body is `{event, event_id?, msg: <tracking>, ts}`. */
  parseWebhook(rawBody: Buffer | string): WebhookUpdate {
    let msg: AfterShipTracking | undefined
    try {
      msg = (JSON.parse(rawBody.toString()) as { msg?: AfterShipTracking }).msg
    } catch {
      throw new BadRequest('webhook body is not JSON')
    }
    if (!msg || typeof msg.tracking_number !== 'string' || typeof msg.slug !== 'string') throw new BadRequest('webhook carries no tracking')
    return { trackingNumber: msg.tracking_number.toUpperCase(), carrier: msg.slug.toLowerCase(), snapshot: afterShipSnapshot(msg) }
  }

  breakerState(): BreakerState {
    return this.policy.state()
  }

  private call(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<JsonAnswer> {
    return this.policy.run((s) => requestJson(this.base + path, { method, headers: { 'as-api-key': this.opts.apiKey }, body }, s), signal)
  }

  private tracking(answer: JsonAnswer): CarrierSnapshot {
    const tracking = (answer.body as Envelope | undefined)?.data?.tracking
    if (answer.status >= 200 && answer.status < 300 && tracking) return afterShipSnapshot(tracking)
    // A 404 here is not an unknown number (those are created); it is a wrong CARRIER_API_URL.
    throw new BadRequest(this.refusal(answer), answer.status)
  }

  private refusal(answer: JsonAnswer): string {
    const meta = (answer.body as Envelope | undefined)?.meta
    return `aftership answered ${answer.status}${meta?.code ? ` (${meta.code} ${meta.type ?? ''}: ${meta.message ?? ''})` : ''}`
  }
}
