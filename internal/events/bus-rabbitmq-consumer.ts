import type { Message } from 'amqplib'
import type { AckOrNack, BrokerAsPromised as Broker, Recovery, SubscriberSessionAsPromised } from 'rascal'
import type { RoleConsumer } from './bus.js'
import { deadLetterChain, forwards, recoveryChain } from './bus-rabbitmq-topology.js'
import { withRequestId } from '../platform/request-context.js'
import { isEnvelope } from './envelope.js'
import { PermanentError, type RoleHandler, type RoleLogger } from './roles.js'
import { afterFailure, type RetryPolicy, type RoleQueues } from './topology.js'

export interface RabbitConsumerOptions {
  broker: Broker
  handler: RoleHandler
  names: RoleQueues
  retry: RetryPolicy
  log: RoleLogger
}

/** How one delivered message fared with its role's handler. */
export type Outcome = { ok: true } | { ok: false; err: Error; attempt: number; permanent: boolean; dead: boolean }

/**
 * Hands one message's parsed content to the role's handler and says what should
 * become of the message; a failure is logged here. Both consumers share it and
 * differ only in how they acknowledge and forward.
 */
export async function runHandler(opts: RabbitConsumerOptions, message: Message, content: unknown): Promise<Outcome> {
  if (!isEnvelope(content)) return { ok: false, err: new PermanentError('not an event envelope'), attempt: 1, permanent: true, dead: true }
  const attempt = forwards(message.properties.headers, opts.names.work) + 1
  // The handler's work, and every log line it writes, belongs to the request that caused the event.
  return withRequestId(content.requestId, async (): Promise<Outcome> => {
    try {
      await opts.handler.handle({ event: content, attempt, final: attempt >= opts.retry.maxAttempts })
      return { ok: true }
    } catch (caught) {
      const err = caught instanceof Error ? caught : new Error(String(caught))
      const permanent = err instanceof PermanentError
      const { dead } = afterFailure(opts.retry, attempt, permanent)
      opts.log.warn({ role: opts.handler.role, eventId: content.id, requestId: content.requestId, attempt, err: err.message }, dead ? 'event dead-lettered' : 'event failed; retrying later')
      return { ok: false, err, attempt, permanent, dead }
    }
  })
}

/**
 * Runs a role over its rascal subscription: a message is acknowledged after the
 * handler resolved; a failure goes through rascal's forward strategy to the next
 * delay queue, and the one that uses up the attempts to the dead letters. Prefetch
 * bounds what is in flight; what the broker has not delivered stays queued.
 */
export class RabbitConsumer implements RoleConsumer {
  private subscription: SubscriberSessionAsPromised | undefined
  private readonly chain: Recovery[]
  private readonly dead: Recovery[]
  private inflight = 0
  readonly counters = { acked: 0, retried: 0, deadLettered: 0 }

  constructor(private readonly opts: RabbitConsumerOptions) {
    this.chain = recoveryChain(opts.names, opts.retry)
    this.dead = deadLetterChain(opts.names)
  }

  get role(): string {
    return this.opts.handler.role
  }

  get inFlight(): number {
    return this.inflight
  }

  async start(): Promise<void> {
    const { log, handler } = this.opts
    const sub = await this.opts.broker.subscribe(handler.role)
    this.subscription = sub
    sub.on('message', (message: Message, content: unknown, ackOrNack: AckOrNack) => this.onMessage(message, content, ackOrNack))
    sub.on('invalid_content', (err: Error, _message: Message, ackOrNack: AckOrNack) => {
      log.warn({ role: handler.role, err: err.message }, 'unparseable message: dead-lettered')
      this.counters.deadLettered++
      ackOrNack(err, this.dead)
    })
    sub.on('error', (err: Error) => log.warn({ role: handler.role, err: err.message }, 'subscription error; rascal recovers it'))
  }

  private onMessage(message: Message, content: unknown, ackOrNack: AckOrNack): void {
    this.inflight++
    runHandler(this.opts, message, content)
      .then((outcome) => {
        if (outcome.ok) {
          this.counters.acked++
          ackOrNack()
          return
        }
        if (outcome.dead) this.counters.deadLettered++
        else this.counters.retried++
        ackOrNack(outcome.err, outcome.permanent ? this.dead : this.chain)
      })
      .finally(() => this.inflight--)
  }

  /** Cancels the subscription, finishes what was delivered (flushing buffered work) and waits for its acknowledgement. */
  async stop(): Promise<void> {
    const sub = this.subscription
    this.subscription = undefined
    const cancelled = sub?.cancel().catch((err: Error) => this.opts.log.warn({ role: this.role, err: err.message }, 'cancel failed'))
    await this.opts.handler.flush?.()
    await cancelled
    await this.opts.handler.close?.()
  }
}
