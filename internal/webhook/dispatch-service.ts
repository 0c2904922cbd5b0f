import type { EventEnvelope } from '../events/envelope.js'
import { redactUrl } from '../platform/http/log-redaction.js'
import { EdgeUnavailable, type Breakers } from '../platform/resilience.js'
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
  /** One breaker and bulkhead per endpoint (`webhook:<endpointId>`), so one failing endpoint holds back only its own deliveries. */
  breakers: Breakers
  now?: () => Date
}

/** Calls to one endpoint in flight at once; as many more wait, the rest are retried later. */
const ENDPOINT_CONCURRENCY = 8
const ENDPOINT_QUEUE = 64

/** An answer to retry (408, 429, 5xx): thrown inside the policy so the endpoint's breaker counts it. */
class RetryableAnswer extends Error {
  constructor(readonly statusCode: number) {
    super(`answered ${statusCode}`)
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The webhooks role: POSTs each event to every enabled endpoint subscribed to its
 * type, signed with the endpoint's secret. Each (endpoint, event) delivery is
 * recorded with all its attempts; a redelivered event only goes to endpoints whose
 * delivery is still pending. Network errors, 408, 429 and 5xx leave it pending and
 * fail the message, so the bus retries it after a growing delay; other answers
 * are final. On the last attempt, what is still pending is marked dead and the
 * message goes to the dead-letter queue; requeued from there, its dead deliveries
 * are tried again. While an endpoint's breaker is open its deliveries are not
 * attempted (nor recorded): they stay pending and the message is retried like
 * after a failure.
 */
export class WebhookDispatcher implements RoleHandler {
  readonly role = 'webhooks'
  readonly counters = { attempts: 0, succeeded: 0, failed: 0, refused: 0 }

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
    // A dead delivery comes back only when its dead letter is requeued (dlq:requeue): try it again.
    if (delivery.status !== 'pending' && delivery.status !== 'dead') return false
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
    const key = `webhook:${ep.id}`
    const policy = this.deps.breakers.keyed(key, { concurrency: ENDPOINT_CONCURRENCY, queue: ENDPOINT_QUEUE, isOutage: (err) => !(err instanceof RefusedAddress) })
    try {
      statusCode = await policy.run(async () => {
        const answer = (await sender.post(ep.url, headers, body, this.deps.timeoutMs)).statusCode
        if (classify(answer) === 'retry') throw new RetryableAnswer(answer)
        return answer
      })
      outcome = classify(statusCode)
    } catch (err) {
      if (err instanceof EdgeUnavailable) {
        // Never sent: no attempt to record, and the endpoint's failure streak is left as it is.
        this.counters.refused++
        return true
      }
      if (err instanceof RetryableAnswer) statusCode = err.statusCode
      else error = (err as Error).message || String(err)
      outcome = err instanceof RefusedAddress ? 'failed' : 'retry'
    }
    const latencyMs = Math.round(performance.now() - started)
    const status: DeliveryStatus = outcome === 'retry' ? 'pending' : outcome
    const { disabled, justDisabled } = await store.recordAttempt(delivery.id, ep.id, { statusCode, latencyMs, error }, status, this.deps.disable)
    this.counters.attempts++
    if (outcome === 'succeeded') this.counters.succeeded++
    else this.counters.failed++
    if (justDisabled) {
      log.warn({ endpointId: ep.id, url: redactUrl(ep.url) }, 'webhook endpoint disabled after sustained failure')
      this.deps.breakers.forget(key)
    }
    return outcome === 'retry' && !disabled
  }
}
