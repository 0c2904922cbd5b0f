import type { EventEnvelope } from '../events/envelope.js'
import { redactUrl } from '../platform/http/log-redaction.js'
import { PermanentError, type Delivery, type RoleHandler, type RoleLogger as WorkerLogger } from '../events/roles.js'
import { classify, RefusedAddress, type DeliveryStatus, type EndpointWithSecret } from './domain.js'
import type { DeliveryStore, DisablePolicy, WebhookSender } from './ports.js'
import { SIGNATURE_HEADER, sign } from './signature.js'

export interface DispatcherDeps {
  store: DeliveryStore
  sender: WebhookSender
  timeoutMs: number
  disable: DisablePolicy
  userAgent: string
  log: WorkerLogger
  now?: () => Date
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The webhooks role: POSTs each event to every enabled endpoint subscribed to its
 * type, signed with the endpoint's secret. Each (endpoint, event) delivery is
 * recorded with all its attempts; a redelivered event only goes to endpoints whose
 * delivery is still pending. Network errors, 408, 429 and 5xx leave it pending and
 * fail the message, so the bus retries it after a growing delay; other answers
 * are final. On the last attempt, what is still pending is marked dead and the
 * message goes to the dead-letter queue.
 */
export class WebhookDispatcher implements RoleHandler {
  readonly role = 'webhooks'
  readonly counters = { attempts: 0, succeeded: 0, failed: 0 }

  constructor(private readonly deps: DispatcherDeps) {}

  async handle({ event, attempt, final }: Delivery): Promise<void> {
    const endpoints = await this.deps.store.endpointsFor(event.type)
    if (endpoints.length === 0) return
    if (!UUID.test(event.id)) throw new PermanentError(`event id "${event.id}" is not a uuid`)
    const body = JSON.stringify(event)
    const outcomes = await Promise.all(endpoints.map(async (ep) => ({ ep, retry: await this.deliver(ep, event, body) })))
    const again = outcomes.filter((o) => o.retry).map((o) => o.ep.id)
    if (again.length === 0) return
    if (final) await this.deps.store.markDead(event.id, again)
    throw new Error(`${again.length} webhook deliveries of event ${event.id} failed (attempt ${attempt})`)
  }

  /** One attempt at one endpoint; true when it should be tried again later. */
  private async deliver(ep: EndpointWithSecret, event: EventEnvelope, body: string): Promise<boolean> {
    const { store, sender, log } = this.deps
    const delivery = await store.open(ep.id, event)
    if (delivery.status !== 'pending') return false
    const timestamp = Math.floor((this.deps.now?.() ?? new Date()).getTime() / 1000)
    const headers = {
      'content-type': 'application/json',
      'user-agent': this.deps.userAgent,
      'x-delivertrack-event-id': event.id,
      'x-delivertrack-event-type': event.type,
      'x-delivertrack-delivery-id': delivery.id,
      // The request that caused the event, so the receiver's logs can be joined with ours.
      ...(event.requestId ? { 'x-request-id': event.requestId } : {}),
      [SIGNATURE_HEADER]: sign(ep.secret, timestamp, body),
    }
    const started = performance.now()
    let statusCode: number | null = null
    let error: string | null = null
    let outcome: 'succeeded' | 'retry' | 'failed'
    try {
      statusCode = (await sender.post(ep.url, headers, body, this.deps.timeoutMs)).statusCode
      outcome = classify(statusCode)
    } catch (err) {
      error = (err as Error).message || String(err)
      outcome = err instanceof RefusedAddress ? 'failed' : 'retry'
    }
    const latencyMs = Math.round(performance.now() - started)
    const status: DeliveryStatus = outcome === 'retry' ? 'pending' : outcome
    const { disabled, justDisabled } = await store.recordAttempt(delivery.id, ep.id, { statusCode, latencyMs, error }, status, this.deps.disable)
    this.counters.attempts++
    if (outcome === 'succeeded') this.counters.succeeded++
    else this.counters.failed++
    if (justDisabled) log.warn({ endpointId: ep.id, url: redactUrl(ep.url) }, 'webhook endpoint disabled after sustained failure')
    return outcome === 'retry' && !disabled
  }
}
