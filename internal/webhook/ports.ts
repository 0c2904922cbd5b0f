import type { EventEnvelope } from '../events/envelope.js'
import type { DeliveryStatus, Endpoint, EndpointWithSecret, WebhookDelivery, WebhookEventType } from './domain.js'

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

/** The admin's side: endpoints and their delivery history. */
export interface WebhookRepository {
  create(input: { url: string; events: WebhookEventType[]; secret: string }): Promise<EndpointWithSecret>
  /** Newest first. */
  list(limit: number, cursor?: string): Promise<Page<Endpoint>>
  get(id: string): Promise<Endpoint | null>
  /** Removes the endpoint with its deliveries; false when there was none. */
  remove(id: string): Promise<boolean>
  /** Active again with a clean failure streak (a no-op for an active one); null when there is none. */
  enable(id: string): Promise<Endpoint | null>
  /** Newest first, each with every attempt in order. */
  deliveries(endpointId: string, limit: number, cursor?: string): Promise<Page<WebhookDelivery>>
}

export interface AttemptRecord {
  statusCode: number | null
  latencyMs: number
  error: string | null
}

export interface DisablePolicy {
  /** Failed attempts in a row... */
  failures: number
  /** ...spanning at least this long, disable the endpoint. */
  seconds: number
}

/** The worker's side. */
export interface DeliveryStore {
  /** Enabled endpoints subscribed to the event type, with their secrets. */
  endpointsFor(type: string): Promise<EndpointWithSecret[]>
  /** The delivery of this event to this endpoint, created pending on first sight (idempotent by endpoint and event id). */
  open(endpointId: string, event: EventEnvelope): Promise<{ id: string; status: DeliveryStatus }>
  /**
   * Appends the attempt, sets the delivery's status and the endpoint's failure
   * streak, in one transaction. While the endpoint is disabled (by this attempt or
   * before) its pending deliveries are failed: nothing more is sent to it.
   */
  recordAttempt(deliveryId: string, endpointId: string, attempt: AttemptRecord, status: DeliveryStatus, policy: DisablePolicy): Promise<{ disabled: boolean; justDisabled: boolean }>
  /** Marks the event's still-pending deliveries dead (the message goes to the dead-letter queue). */
  markDead(eventId: string, endpointIds: string[]): Promise<void>
}

/** Refuses hosts that are, or resolve to, private/loopback/link-local addresses (unless allowed). */
export interface AddressGuard {
  /** Rejects with RefusedAddress, or with the DNS error when the host does not resolve. */
  check(url: URL): Promise<void>
}

/** One HTTP POST. Rejects on network errors and timeouts; RefusedAddress when the connection would reach a refused address. */
export interface WebhookSender {
  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ statusCode: number }>
}
