import { checkpoint, snapshot, statusFromEasyPost, type CarrierSnapshot } from './domain.js'
import { ProviderPolicy, type PolicyOptions } from './policy.js'
import { BadRequest, NotFoundAtCarrier, type BreakerState, type CarrierProvider, type TrackOptions, type WebhookUpdate } from './ports.js'
import { header, hmac, requestJson, safeEqual } from './provider-http.js'

/** EasyPost API v2 (Tracker API; README.md lists the pages followed). */
export const EASYPOST_API_URL = 'https://api.easypost.com/v2'
export const EASYPOST_SIGNATURE_HEADER = 'x-hmac-signature'
const SIGNATURE_PREFIX = 'hmac-sha256-hex='

/** EasyPost names carriers by their own account types; our slugs are lower case. */
const EASYPOST_CARRIERS: Readonly<Record<string, string>> = {
  ups: 'UPS',
  usps: 'USPS',
  fedex: 'FedEx',
  dhl: 'DHLExpress',
  'dhl-express': 'DHLExpress',
  canadapost: 'CanadaPost',
  'canada-post': 'CanadaPost',
  ontrac: 'OnTrac',
  lasership: 'LaserShipV2',
}
const OUR_SLUGS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(EASYPOST_CARRIERS).reverse().map(([ours, theirs]) => [theirs.toLowerCase(), ours]),
)

export interface EasyPostTrackingDetail {
  datetime?: string | null
  message?: string | null
  status?: string
  tracking_location?: { city?: string | null; state?: string | null; country?: string | null; zip?: string | null } | null
}

export interface EasyPostTracker {
  object?: string
  tracking_code: string
  carrier?: string | null
  status?: string
  est_delivery_date?: string | null
  tracking_details?: EasyPostTrackingDetail[]
}

export interface EasyPostOptions extends PolicyOptions {
  apiKey: string
  webhookSecret: string
  baseUrl?: string
}

/** Our snapshot of an EasyPost Tracker object. EasyPost's locations have no coordinates. */
export function easyPostSnapshot(t: EasyPostTracker): CarrierSnapshot {
  return snapshot({
    status: statusFromEasyPost(t.status),
    checkpoints: (t.tracking_details ?? []).map((d) =>
      checkpoint({
        occurredAt: d.datetime,
        message: d.message,
        city: d.tracking_location?.city,
        country: d.tracking_location?.country,
        status: d.status ? statusFromEasyPost(d.status) : undefined,
      }),
    ),
    estimatedDelivery: t.est_delivery_date,
  })
}

interface ErrorBody {
  error?: { code?: string; message?: string }
}

export class EasyPostProvider implements CarrierProvider {
  readonly name = 'easypost'
  private readonly policy: ProviderPolicy
  private readonly base: string
  private readonly auth: string

  constructor(private readonly opts: EasyPostOptions) {
    this.policy = new ProviderPolicy(this.name, opts)
    this.base = (opts.baseUrl ?? EASYPOST_API_URL).replace(/\/+$/, '')
    // HTTP basic auth with the API key as the user name and no password.
    this.auth = `Basic ${Buffer.from(`${opts.apiKey}:`).toString('base64')}`
  }

  /**
   * `POST /trackers`: EasyPost answers an existing tracker for a number it already
   * follows instead of making a second one, so one call both registers and reads.
   */
  async track(carrier: string, trackingNumber: string, opts: TrackOptions = {}): Promise<CarrierSnapshot> {
    const slug = carrier.toLowerCase()
    const answer = await this.policy.run(
      (s) =>
        requestJson(
          `${this.base}/trackers`,
          { method: 'POST', headers: { authorization: this.auth }, body: { tracker: { tracking_code: trackingNumber, carrier: EASYPOST_CARRIERS[slug] ?? carrier } } },
          s,
        ),
      opts.signal,
    )
    const tracker = answer.body as EasyPostTracker | undefined
    if (answer.status >= 200 && answer.status < 300 && tracker?.tracking_code) return easyPostSnapshot(tracker)
    const err = (answer.body as ErrorBody | undefined)?.error
    const message = `easypost answered ${answer.status}${err?.code ? ` (${err.code}: ${err.message ?? ''})` : ''}`
    // Only EasyPost's own error body makes a 404 an unknown number; any other 404 is a wrong CARRIER_API_URL.
    if (answer.status === 404 && err?.code) throw new NotFoundAtCarrier(message, 404)
    throw new BadRequest(message, answer.status)
  }

  /** `x-hmac-signature: hmac-sha256-hex=<hex HMAC-SHA256 of the raw body>`, keyed with the NFKD-normalised secret. */
  verifyWebhook(headers: Record<string, string | string[] | undefined>, rawBody: Buffer | string): boolean {
    if (!this.opts.webhookSecret) return false
    const expected = SIGNATURE_PREFIX + hmac(Buffer.from(this.opts.webhookSecret.normalize('NFKD'), 'utf8'), rawBody, 'hex')
    return safeEqual(header(headers, EASYPOST_SIGNATURE_HEADER), expected)
  }

  /** An Event whose `result` is a Tracker (`tracker.created`, `tracker.updated`). */
  parseWebhook(rawBody: Buffer | string): WebhookUpdate {
    let result: EasyPostTracker | undefined
    try {
      result = (JSON.parse(rawBody.toString()) as { result?: EasyPostTracker }).result
    } catch {
      throw new BadRequest('webhook body is not JSON')
    }
    if (!result || result.object !== 'Tracker' || typeof result.tracking_code !== 'string') throw new BadRequest('webhook carries no tracker')
    const theirs = (result.carrier ?? '').toLowerCase()
    return { trackingNumber: result.tracking_code.toUpperCase(), carrier: OUR_SLUGS[theirs] ?? theirs, snapshot: easyPostSnapshot(result) }
  }

  breakerState(): BreakerState {
    return this.policy.state()
  }
}
