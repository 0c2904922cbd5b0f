import { currentRequestId } from '../platform/request-context.js'
import type { Bus, BusMessage } from './bus.js'
import { toEnvelope, type EventEnvelope, type PackageEvent } from './envelope.js'
import type { EventLogReader } from './log.js'
import type { OutboxRelay } from './relay.js'

/** Where a gateway's events end up: its hub, which fans them out to WebSocket clients. */
export interface EventSink {
  receive(event: EventEnvelope): void
}

export interface EventPathOptions {
  /** This process's id: the origin of what it records and publishes. */
  instanceId: string
  bus: Bus
  relay: OutboxRelay
  log: EventLogReader
  sink: EventSink
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void }
  /** A clock margin for events recorded by other gateways around an outage's start. */
  catchUpMarginMs?: number
}

/**
 * Every path an event takes through a gateway, and each reaches its hub once:
 *
 * - committed here: to the hub at once (this gateway's clients hear of it even
 *   while the broker is down), and the relay is nudged to publish it from the outbox;
 * - published by any relay: to every gateway's hub through the bus, except the one
 *   whose commit recorded it (its origin), which has routed it already;
 * - missed during a bus outage: replayed from the event log once connected again
 *   (again skipping this gateway's own), with live events held until the replay is done;
 * - live-only (locations): to the hub at once, and through the bus to the others.
 *
 * The relay publishes the outbox to the bus; the workers' queues take their copy
 * there (bus -> worker roles).
 */
export class EventPath {
  private subscribed = false
  private held: EventEnvelope[] | undefined
  private catchingUp = 0
  private readonly startedAt = new Date()
  /** Events that came through the bus: routed to the hub, or skipped as this gateway's own. */
  readonly counters = { received: 0, skippedOwn: 0 }

  constructor(private readonly opts: EventPathOptions) {}

  /** After a commit: this gateway's hub at once; the relay publishes the events for everyone else. */
  committed(events: readonly PackageEvent[]): void {
    for (const e of events) this.route(toEnvelope(e))
    this.opts.relay.kick()
  }

  /** A live-only event: this gateway's hub at once, the other gateways' through the bus (best effort, never stored). */
  live(event: PackageEvent): void {
    const requestId = event.requestId ?? currentRequestId()
    const env = toEnvelope(requestId ? { ...event, requestId } : event)
    this.route(env)
    if (!this.opts.bus.connected) return
    this.opts.bus.publish([{ event: env, origin: this.opts.instanceId }]).catch((err: unknown) => this.opts.logger.warn({ err }, 'live event not published'))
  }

  async start(): Promise<void> {
    this.opts.bus.onConnected((downSince) => this.connected(downSince))
    await this.opts.relay.start()
  }

  async stop(): Promise<void> {
    await this.opts.relay.stop()
  }

  private connected(downSince: Date | undefined): void {
    this.opts.relay.kick()
    if (downSince) {
      void this.catchUp(downSince)
      return
    }
    if (this.subscribed) return
    this.subscribed = true
    // Connected late (the broker was down at start-up): nothing reached us before now.
    if (Date.now() - this.startedAt.getTime() > 2_000) void this.catchUp(this.startedAt)
    this.opts.bus.subscribe((m) => this.fromBus(m)).catch((err: unknown) => {
      this.subscribed = false
      this.opts.logger.warn({ err }, 'cannot subscribe to the bus; only this gateway’s own events reach its clients')
    })
  }

  private fromBus(message: BusMessage): void {
    if (message.origin === this.opts.instanceId) {
      this.counters.skippedOwn++
      return
    }
    this.counters.received++
    this.route(message.event)
  }

  private route(env: EventEnvelope): void {
    if (this.held) this.held.push(env)
    else this.opts.sink.receive(env)
  }

  /**
   * Replays the events recorded since the moment, except this gateway's own. Live
   * events arriving meanwhile are held and routed after it: routed first, a newer
   * seq would set the cursor of a channel that had none for the package yet (`all`,
   * `user:`), and the replayed older events would then be dropped as already seen.
   */
  async catchUp(since: Date): Promise<number> {
    this.catchingUp++
    this.held ??= []
    try {
      const logged = await this.opts.log.recordedSince(new Date(since.getTime() - (this.opts.catchUpMarginMs ?? 5_000)))
      let replayed = 0
      for (const { event, origin } of logged) {
        if (origin === this.opts.instanceId) continue
        this.opts.sink.receive(event)
        replayed++
      }
      this.opts.logger.info({ replayed }, 'caught up on events missed while the bus was away')
      return replayed
    } catch (err) {
      this.opts.logger.warn({ err }, 'catch-up after a bus outage failed')
      return 0
    } finally {
      if (--this.catchingUp === 0) {
        const held = this.held ?? []
        this.held = undefined
        for (const env of held) this.opts.sink.receive(env)
      }
    }
  }
}
