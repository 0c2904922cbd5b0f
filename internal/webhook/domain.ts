import { randomBytes } from 'node:crypto'
import { invalid } from '../platform/errors.js'

/** Event types an endpoint may subscribe to; `*` is every type. */
export const WEBHOOK_EVENT_TYPES = [
  'package.created',
  'package.updated',
  'package.status_changed',
  'package.deleted',
  'package.assigned',
  'package.assignment_accepted',
  'package.assignment_declined',
  'package.assignment_cancelled',
  'package.proof_added',
  'package.location',
  '*',
] as const
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

export interface Endpoint {
  id: string
  url: string
  events: WebhookEventType[]
  /** Failed attempts in a row; a success resets it. */
  consecutiveFailures: number
  /** Set when the endpoint failed for too long; nothing more is sent to it. */
  disabledAt: Date | null
  createdAt: Date
}

export interface EndpointWithSecret extends Endpoint {
  secret: string
}

/** pending: more attempts will follow; succeeded / failed (a 4xx, a refused address, endpoint disabled) / dead (retries used up): final. */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'dead'

export interface Attempt {
  attempt: number
  statusCode: number | null
  latencyMs: number
  error: string | null
  attemptedAt: Date
}

export interface WebhookDelivery {
  id: string
  endpointId: string
  eventId: string
  eventType: string
  status: DeliveryStatus
  attempts: Attempt[]
  createdAt: Date
  updatedAt: Date
}

export const subscribes = (endpoint: Pick<Endpoint, 'events'>, type: string) => endpoint.events.includes('*') || endpoint.events.includes(type as WebhookEventType)

/**
 * What an HTTP answer means for a delivery: 2xx is done; 408, 429 and 5xx are
 * worth another try; any other status (a 4xx, a redirect) will not change by retrying.
 */
export function classify(statusCode: number): 'succeeded' | 'retry' | 'failed' {
  if (statusCode >= 200 && statusCode < 300) return 'succeeded'
  if (statusCode === 408 || statusCode === 429 || statusCode >= 500) return 'retry'
  return 'failed'
}

/** A secret for signing deliveries: 32 random bytes. */
export const generateSecret = () => `whsec_${randomBytes(32).toString('base64url')}`

/** A webhook URL must be absolute http(s) without credentials; the address check comes on top. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw invalid('/url', 'must be an absolute URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('/url', 'must be an http or https URL')
  if (url.username || url.password) throw invalid('/url', 'must not carry credentials')
  return url
}

/** The host refused: it is, or resolves to, a private, loopback or link-local address. */
export class RefusedAddress extends Error {
  override name = 'RefusedAddress'
}
