import { SEES_ALL, type Principal, type Role } from '../auth/domain.js'
import { AppError, unauthorized } from '../platform/errors.js'
import type { Hub } from '../platform/hub/hub.js'
import { seesActor } from '../events/actor.js'
import type { EventEnvelope } from '../events/envelope.js'
import type { ChannelMessage, Connection } from './connection.js'

/** What re-checking access needs from the rest of the gateway, fresh from the database. */
export interface AccessLookup {
  /** The package's current durable seq if the principal sees it in full; throws (not_found, forbidden) otherwise. */
  readableSeq(principal: Principal, trackingNumber: string): Promise<number>
  /**
   * The account's role; null when it no longer exists. It may come from a cache the
   * gateway clears when told of a change; `fresh` reads past it.
   */
  currentRole(userId: string, fresh?: boolean): Promise<Role | null>
}

export const SEES_FIREHOSE: ReadonlySet<Role> = new Set<Role>(['admin', 'operator'])

interface Session {
  /** The principal as its token says. */
  token: Principal
  /** The same with the account's role now (tokens outlive role changes). */
  principal: Principal
  gone: boolean
}

/**
 * Keeps each connection's subscriptions within what its user may see now. The
 * role is read from the database when a connection first subscribes as someone,
 * and again when that account changes (`userChanged`, on any gateway); a package
 * event that moves its driver or owner is checked against the subscribers of its
 * channel before it is delivered. A subscription that no longer holds is closed
 * with `{type: "unsubscribed", channel, code, message}`.
 */
export class AccessGuard {
  private readonly sessions = new Map<Connection, Session>()
  private readonly byUser = new Map<string, Set<Connection>>()

  constructor(
    private readonly hub: Hub<ChannelMessage>,
    private readonly lookup: AccessLookup,
    private readonly unsubscribe: (conn: Connection, channel: string) => void,
    private readonly log: { warn(o: object, m: string): void },
  ) {}

  /** The principal the connection subscribes as, with its account's current role; unauthorized when the account is gone. */
  async principalFor(conn: Connection, token: Principal): Promise<Principal> {
    if (token.kind !== 'user') return token
    const known = this.sessions.get(conn)
    if (known?.token === token) {
      if (known.gone) throw unauthorized('the account no longer exists')
      return known.principal
    }
    const role = await this.lookup.currentRole(token.id)
    if (!role) throw unauthorized('the account no longer exists')
    if (known) this.forget(conn)
    const principal = role === token.role ? token : Object.freeze({ ...token, role })
    this.sessions.set(conn, { token, principal, gone: false })
    let set = this.byUser.get(token.id)
    if (!set) this.byUser.set(token.id, (set = new Set()))
    set.add(conn)
    return principal
  }

  forget(conn: Connection): void {
    const session = this.sessions.get(conn)
    if (!session) return
    this.sessions.delete(conn)
    const set = this.byUser.get(session.token.id)
    set?.delete(conn)
    if (set?.size === 0) this.byUser.delete(session.token.id)
  }

  /**
   * Before an event is delivered: a new driver or owner ends the `package:`
   * subscriptions of drivers and customers it leaves out. Decided from the event,
   * which states the new value, so nothing waits on the database.
   */
  beforeDelivery(env: EventEnvelope): void {
    let role: Role
    let holder: unknown
    if (env.type === 'package.assigned') {
      role = 'driver'
      holder = env.data.driverId
    } else if (env.type === 'package.assignment_declined' || env.type === 'package.assignment_cancelled') {
      // The package has no driver now (an offer to another one follows as package.assigned).
      role = 'driver'
      holder = null
    } else if (env.type === 'package.updated' && isObject(env.data.changes) && 'customerId' in env.data.changes) {
      role = 'customer'
      holder = env.data.changes.customerId
    } else return
    const channel = `package:${env.trackingNumber}`
    for (const subscriber of this.hub.subscribersOf(channel)) {
      const conn = subscriber as Connection
      const principal = this.sessions.get(conn)?.principal
      if (principal && principal.role === role && principal.id !== holder) this.revoke(conn, channel, 'not_found', 'package not found')
    }
  }

  /** The account changed (deleted, new role): re-check every subscription of its connections here. */
  async userChanged(userId: string, fresh = false): Promise<void> {
    const conns = [...(this.byUser.get(userId) ?? [])]
    if (conns.length === 0) return
    let role: Role | null
    try {
      role = await this.lookup.currentRole(userId, fresh)
    } catch (err) {
      this.log.warn({ err, userId }, 'could not re-check a changed account; its subscriptions stay until the next change')
      return
    }
    await Promise.all(conns.map((conn) => this.recheck(conn, role)))
  }

  /** After notices may have been missed: every account with a subscription here, read past any cache. */
  async recheckAll(): Promise<void> {
    for (const userId of [...this.byUser.keys()]) await this.userChanged(userId, true)
  }

  private async recheck(conn: Connection, role: Role | null): Promise<void> {
    const session = this.sessions.get(conn)
    if (!session) return
    if (!role) {
      session.gone = true
      for (const channel of conn.channelNames) if (!channel.startsWith('track:')) this.revoke(conn, channel, 'unauthorized', 'the account no longer exists')
      return
    }
    if (role !== session.principal.role) session.principal = Object.freeze({ ...session.token, role })
    const principal = session.principal
    for (const channel of conn.channelNames) {
      if (channel.startsWith('package:')) conn.setStaff(channel, seesActor(role))
      if (channel === 'all' && !SEES_FIREHOSE.has(role)) this.revoke(conn, channel, 'forbidden', 'the all channel is for admins and operators')
      else if (channel.startsWith('package:') && !SEES_ALL.has(role)) {
        try {
          await this.lookup.readableSeq(principal, channel.slice('package:'.length))
        } catch (err) {
          if (err instanceof AppError) this.revoke(conn, channel, err.code, err.message)
          else this.log.warn({ err }, 'could not re-check a package subscription')
        }
      }
    }
  }

  private revoke(conn: Connection, channel: string, code: string, message: string): void {
    if (!conn.has(channel)) return
    this.unsubscribe(conn, channel)
    conn.send(JSON.stringify({ type: 'unsubscribed', channel, code, message }))
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null
