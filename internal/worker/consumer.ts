import type { Message } from 'amqplib'
import type { AckOrNack, Recovery, SubscriberSessionAsPromised } from 'rascal'
import { deadLetterChain, recoveryChain, type WorkerQueueNames } from '../platform/bus/worker-topology.js'
import { runHandler, type RoleHandler, type WorkerLogger } from './delivery.js'

export interface ConsumerOptions {
  bus: { subscribe(name: string): Promise<SubscriberSessionAsPromised> }
  handler: RoleHandler
  names: WorkerQueueNames
  maxAttempts: number
  delaysMs: readonly number[]
  log: WorkerLogger
}

/**
 * Runs one role over its rascal subscription. A message is acknowledged only
 * after the handler resolved; a failure goes through rascal's forward strategy to
 * the next delay queue (TTL, then dead-lettered back into the work queue), and the
 * failure that uses up `maxAttempts` to the role's dead-letter queue. Prefetch
 * bounds what is in flight; whatever the broker has not delivered stays queued.
 */
export class Consumer {
  private subscription: SubscriberSessionAsPromised | undefined
  private readonly chain: Recovery[]
  private readonly dead: Recovery[]
  private inflight = 0
  readonly counters = { acked: 0, retried: 0, deadLettered: 0 }

  constructor(private readonly opts: ConsumerOptions) {
    this.chain = recoveryChain(opts.names, opts.maxAttempts, opts.delaysMs)
    this.dead = deadLetterChain(opts.names)
  }

  get role() {
    return this.opts.handler.role
  }

  get inFlight(): number {
    return this.inflight
  }

  async start(): Promise<void> {
    const { log, handler } = this.opts
    const sub = await this.opts.bus.subscribe(handler.role)
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
    const { handler, log, names, maxAttempts } = this.opts
    this.inflight++
    runHandler({ handler, log, workQueue: names.work, maxAttempts }, message, content)
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

  /**
   * Graceful stop: cancel the subscription (nothing new is delivered), finish what
   * was delivered (flushing a partial batch), and wait until it is acknowledged.
   */
  async stop(): Promise<void> {
    const sub = this.subscription
    this.subscription = undefined
    const cancelled = sub?.cancel().catch((err: Error) => this.opts.log.warn({ role: this.role, err: err.message }, 'cancel failed'))
    await this.opts.handler.flush?.()
    await cancelled
    await this.opts.handler.close?.()
  }
}
