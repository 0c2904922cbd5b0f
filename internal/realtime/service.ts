import type { Principal } from '../auth/domain.js'
import { forbidden } from '../platform/errors.js'
import { Hub } from '../platform/hub/hub.js'
import type { ChannelMessage, Connection, EventLog } from './connection.js'
import { isEnvelope, type EventEnvelope } from './envelope.js'
import { EventRouter, serializerFor, type TrackerLookup } from './router.js'

/** What subscriptions need from the package domain: the rules of the REST routes, fresh from the database. */
export interface PackageAccess {
  /** The package's current durable seq if the principal may read it; throws not_found otherwise. */
  readableSeq(principal: Principal, trackingNumber: string): Promise<number>
  /** The package's current seq for the public view; throws not_found for an unknown number. */
  publicSeq(trackingNumber: string): Promise<number>
}

export interface RealtimeServiceDeps {
  access: PackageAccess
  eventLog: EventLog
  trackers: TrackerLookup
  /** Events recorded since a moment, for catching up after a broker outage. */
  recordedSince: (at: Date) => Promise<EventEnvelope[]>
  log: { warn(o: object, m: string): void; info(o: object, m: string): void }
}

const SEES_FIREHOSE = new Set(['admin', 'operator'])

/**
 * The subscription side of the real-time pipeline: authorizes subscriptions with
 * the REST rules, registers connections in the hub, and feeds consumed events
 * through the router. After a broker outage it replays the event log from the
 * moment the connection was lost; connections drop what they already have.
 */
export class RealtimeService {
  readonly hub = new Hub<ChannelMessage>()
  readonly connections = new Set<Connection>()
  readonly router: EventRouter
  readonly eventLog: EventLog
  consumed = 0
  /** Live events that arrived while a catch-up replay was running; routed right after it. */
  private held: EventEnvelope[] | undefined
  private catchingUp = 0

  constructor(private readonly deps: RealtimeServiceDeps) {
    this.eventLog = deps.eventLog
    this.router = new EventRouter(this.hub, deps.trackers, deps.log)
  }

  /** Handles one message from the broker (or a replayed one). */
  receive(content: unknown): void {
    if (!isEnvelope(content)) {
      this.deps.log.warn({}, 'ignoring a message that is not an event envelope')
      return
    }
    this.consumed++
    if (this.held) this.held.push(content)
    else this.router.route(content)
  }

  /**
   * Replays the event log recorded since the moment. Live events received
   * meanwhile are held and routed after the replay: routed first, a newer seq would
   * set the cursor of a channel that had no cursor for the package yet (`all`,
   * `user:`), and the replayed older events would then be dropped as already seen.
   */
  async catchUp(since: Date): Promise<number> {
    this.catchingUp++
    this.held ??= []
    try {
      // A margin for clock skew between gateways that recorded the events.
      const events = await this.deps.recordedSince(new Date(since.getTime() - 5_000))
      for (const env of events) this.router.route(env)
      this.deps.log.info({ replayed: events.length }, 'caught up after a broker outage')
      return events.length
    } finally {
      if (--this.catchingUp === 0) {
        const held = this.held
        this.held = undefined
        for (const env of held) this.router.route(env)
      }
    }
  }

  /**
   * Subscribes a connection. It is registered (buffering) before the current seq
   * is read, so an event committed in between is neither lost nor doubled. `ack`
   * sends `subscribed` before any history or live event.
   */
  async subscribe(conn: Connection, principal: Principal | undefined, channel: string, since: number | undefined, ack: (seq?: number) => void): Promise<void> {
    const [kind, rest] = splitChannel(channel)
    if (kind === 'all' && !(principal && SEES_FIREHOSE.has(principal.role))) throw forbidden('the all channel is for admins and operators')
    if (kind === 'user' && principal?.id !== rest) throw forbidden('you may only subscribe to your own user channel')
    if (kind === 'package' && !principal) throw forbidden('sign in to subscribe to package channels; guests may use track:<tn>')
    this.unsubscribe(conn, channel)
    conn.open(channel, serializerFor(channel))
    this.hub.subscribe(channel, conn)
    let seq: number | undefined
    try {
      if (kind === 'package') seq = await this.deps.access.readableSeq(principal!, rest)
      else if (kind === 'track') seq = await this.deps.access.publicSeq(rest)
    } catch (err) {
      this.unsubscribe(conn, channel)
      throw err
    }
    ack(seq)
    try {
      await conn.resume(channel, seq === undefined ? undefined : rest, seq, since)
    } catch (err) {
      // Left open, the channel would buffer live events forever behind the failed history read.
      this.unsubscribe(conn, channel)
      throw err
    }
  }

  unsubscribe(conn: Connection, channel: string): void {
    this.hub.unsubscribe(channel, conn)
    conn.close(channel)
  }

  disconnect(conn: Connection): void {
    for (const channel of conn.channelNames) this.unsubscribe(conn, channel)
    this.connections.delete(conn)
  }

  stats() {
    let sent = 0
    for (const c of this.connections) sent += c.sent
    return { connections: this.connections.size, subscriptions: this.hub.subscriptions, consumed: this.consumed, delivered: this.hub.delivered, sent }
  }
}

function splitChannel(channel: string): [string, string] {
  const colon = channel.indexOf(':')
  return colon < 0 ? [channel, ''] : [channel.slice(0, colon), channel.slice(colon + 1)]
}
