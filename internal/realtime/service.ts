import type { Principal } from '../auth/domain.js'
import { forbidden } from '../platform/errors.js'
import { Hub } from '../platform/hub/hub.js'
import type { ChannelMessage, Connection, EventLog } from './connection.js'
import { seesActor } from '../events/actor.js'
import type { EventEnvelope } from '../events/envelope.js'
import type { EventSink } from '../events/path.js'
import { AccessGuard, SEES_FIREHOSE, type AccessLookup } from './access.js'
import { EventRouter, serializerFor, type AudienceLookup } from './router.js'

/** What subscriptions need from the package and auth domains: the rules of the REST routes, fresh from the database. */
export interface PackageAccess extends AccessLookup {
  /** The package's current seq for the public view; throws not_found for an unknown number. */
  publicSeq(trackingNumber: string): Promise<number>
}

export interface RealtimeServiceDeps {
  access: PackageAccess
  eventLog: EventLog
  audience: AudienceLookup
  log: { warn(o: object, m: string): void; info(o: object, m: string): void }
}

/**
 * The subscription side of the real-time pipeline: authorizes subscriptions with
 * the REST rules, registers connections in the hub, and routes the events the
 * event path hands it (events/path.ts) to their channels.
 */
export class RealtimeService implements EventSink {
  readonly hub = new Hub<ChannelMessage>()
  readonly connections = new Set<Connection>()
  readonly router: EventRouter
  readonly eventLog: EventLog
  readonly access: AccessGuard
  consumed = 0

  constructor(private readonly deps: RealtimeServiceDeps) {
    this.eventLog = deps.eventLog
    this.router = new EventRouter(this.hub, deps.audience, deps.log)
    this.access = new AccessGuard(this.hub, deps.access, (conn, channel) => this.unsubscribe(conn, channel), deps.log)
  }

  /** Routes one event to the channels that may see it, after ending subscriptions it takes access from. */
  receive(event: EventEnvelope): void {
    this.consumed++
    this.access.beforeDelivery(event)
    this.router.route(event)
  }

  /** An account changed on some gateway (deleted, new role): its subscriptions here are checked again. */
  userChanged(userId: string): Promise<void> {
    return this.access.userChanged(userId)
  }

  /**
   * Subscribes a connection. It is registered (buffering) before the current seq
   * is read, so an event committed in between is neither lost nor doubled. `ack`
   * sends `subscribed` before any history or live event.
   */
  async subscribe(conn: Connection, token: Principal | undefined, channel: string, since: number | undefined, ack: (seq?: number) => void): Promise<void> {
    const [kind, rest] = splitChannel(channel)
    // Anyone may follow track:; every other channel is decided on the account's role now, not the token's.
    const principal = token && kind !== 'track' ? await this.access.principalFor(conn, token) : token
    if (kind === 'all' && !(principal && SEES_FIREHOSE.has(principal.role))) throw forbidden('the all channel is for admins and operators')
    if (kind === 'user' && principal?.id !== rest) throw forbidden('you may only subscribe to your own user channel')
    if (kind === 'package' && !principal) throw forbidden('sign in to subscribe to package channels; guests may use track:<tn>')
    this.unsubscribe(conn, channel)
    const staff = kind === 'all' || (kind === 'package' && seesActor(principal?.role))
    conn.open(channel, kind === 'user' ? this.router.userSerializer(channel) : serializerFor(channel), staff)
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
    if (channel.startsWith('user:') && !this.hub.hasSubscribers(channel)) this.router.forgetUser(channel)
  }

  disconnect(conn: Connection): void {
    for (const channel of conn.channelNames) this.unsubscribe(conn, channel)
    this.access.forget(conn)
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
