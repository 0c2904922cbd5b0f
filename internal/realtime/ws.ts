import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify'
import type { WebSocket } from 'ws'
import { Type } from 'typebox'
import type { Principal } from '../auth/domain.js'
import { AppError } from '../platform/errors.js'
import { toErrorBody } from '../platform/http/errors.js'
import { Connection } from './connection.js'
import { channelOf, invalidMessage, parse, type ClientMessage } from './ws-messages.js'
import type { RealtimeService } from './service.js'
import type { TrackBudget } from './track-budget.js'
import { systemTimers, type Timers } from '../platform/timers.js'
import { ConnectionsPerIp, Deadlines, TokenBucket, type Due } from './ws-limits.js'

/** What a token check yields: who it is, and until when (ms since the epoch; none: no expiry). */
export interface WsIdentity {
  principal: Principal
  expiresAt?: number
}

export interface WsOptions {
  realtime: RealtimeService
  authenticate: (token: string) => Promise<WsIdentity>
  heartbeatMs: number
  maxBufferedBytes: number
  /** Open sockets per client address on this gateway. */
  maxConnectionsPerIp: number
  /** Messages a connection may send at once, and per second after that. */
  messageBurst: number
  messagesPerSecond: number
  /** Messages of one connection received but not yet handled. */
  maxQueuedMessages: number
  /** `track:` subscriptions spend the address's /track budget. */
  trackBudget?: TrackBudget
  clock?: Timers
  /** Figures the limits keep (tests and ops read them). */
  counters?: WsCounters
}

/** What the limits did, since start. */
export interface WsCounters {
  /** The most messages one connection ever had waiting to be handled. */
  peakQueued: number
  /** Messages taken in for handling (not those dropped once a connection was closed). */
  handled: number
  /** Connections closed or refused, by reason. */
  closedForRate: number
  closedForQueue: number
  refusedPerIp: number
  expired: number
}

export const newWsCounters = (): WsCounters => ({ peakQueued: 0, handled: 0, closedForRate: 0, closedForQueue: 0, refusedPerIp: 0, expired: 0 })

/** Close codes: 1008 policy violation (a limit), 4401 the token expired (re-authenticate, resume with since). */
export const CLOSE_POLICY = 1008
export const CLOSE_TOKEN_EXPIRED = 4401

const MAX_MESSAGE_BYTES = 4096
const MAX_SUBSCRIPTIONS = 200
const MAX_BAD_MESSAGES = 20

let nextId = 1

/**
 * `GET /api/v1/ws`: the contract's WebSocket protocol. Messages of one connection
 * are handled strictly in order; a client that keeps sending garbage, sends too
 * fast or has too many messages waiting is closed with 1008, one that cannot keep
 * up with 1013, one whose token expires with 4401, a silent one after a missed
 * heartbeat. Sockets per client address are capped (429 before the upgrade).
 */
export const wsRoutes: FastifyPluginAsync<WsOptions> = async (app, opts) => {
  const { realtime } = opts
  const clock = opts.clock ?? systemTimers
  const counters = opts.counters ?? newWsCounters()
  const perIp = new ConnectionsPerIp(opts.maxConnectionsPerIp)
  const deadlines = new Deadlines(clock)
  const shared: Shared = { opts, counters, deadlines, clock }
  const tooManyFromIp = () => `at most ${perIp.max} WebSocket connections per client address`
  const alive = new WeakMap<WebSocket, boolean>()
  const sockets = new Set<WebSocket>()
  const heartbeat = setInterval(() => {
    for (const socket of sockets) {
      if (alive.get(socket) === false) {
        socket.terminate()
        continue
      }
      alive.set(socket, false)
      socket.ping()
    }
  }, opts.heartbeatMs)
  heartbeat.unref()
  app.addHook('onClose', async () => clearInterval(heartbeat))
  app.addHook('preClose', async () => {
    for (const socket of sockets) socket.close(1001, 'server shutting down')
  })

  app.get('/ws', {
    websocket: true,
    // ws writes its own handshake: headers set on the reply would never be sent.
    config: { auth: 'none', rateLimit: false, securityHeaders: false },
    schema: {
      tags: ['realtime'],
      summary: 'WebSocket: live package events (protocol in the contract)',
      description: 'More than WS_MAX_CONNECTIONS_PER_IP open sockets from the client address: 429 `rate_limited` before the upgrade. Close codes: docs/api-changes.md.',
      querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 4096 })) }),
    },
    // Refused before the upgrade, as an ordinary 4xx in the error shape (a plain GET,
    // e.g. a proxy that dropped the upgrade headers, would otherwise get an empty 404).
    preValidation: async (request) => {
      if (!request.ws) throw new AppError('upgrade_required', 'upgrade_required', 'this path speaks WebSocket only: send the request with "Connection: Upgrade" and "Upgrade: websocket"')
      if (perIp.full(request.ip)) {
        counters.refusedPerIp++
        throw new AppError('rate_limited', 'rate_limited', tooManyFromIp())
      }
    },
    // ws writes the handshake on the raw socket: the unused HTTP response lets go of it,
    // or every open socket would keep that response (and the request) alive.
    preHandler: async (request, reply) => {
      if (request.ws && reply.raw.socket) reply.raw.detachSocket(reply.raw.socket)
    },
  }, async (socket, request) => {
    const ip = request.ip
    // Sockets upgraded at the same moment all passed the check above: the count decides.
    if (!perIp.acquire(ip)) {
      counters.refusedPerIp++
      socket.close(CLOSE_POLICY, tooManyFromIp())
      return
    }
    sockets.add(socket)
    alive.set(socket, true)
    const client = new WsClient(shared, socket, ip, request.log)
    realtime.connections.add(client.connection)
    // Listeners go on before anything is awaited: a message that arrives while the
    // token is checked (an external token means a database round trip) would be
    // lost, and a socket closed meanwhile would never be cleaned up. The token
    // check heads the chain, so messages wait for it.
    socket.on('pong', () => alive.set(socket, true))
    socket.on('close', () => {
      client.closed()
      perIp.release(ip)
      sockets.delete(socket)
    })
    socket.on('message', (raw: Buffer, isBinary: boolean) => client.received(raw, isBinary))
    // The plugin's own 'error' listener holds the upgrade's request and reply for as
    // long as the socket lives; this one holds only the logger.
    const log = request.log
    socket.removeAllListeners('error')
    socket.on('error', (err) => {
      log.warn({ err }, 'websocket error')
      socket.terminate()
    })
    const token = (request.query as { token?: string }).token
    if (token) client.signInWith(token)
  })
}

/** What every connection of one gateway shares. */
interface Shared {
  opts: WsOptions
  counters: WsCounters
  deadlines: Deadlines
  clock: Timers
}

/**
 * One socket's protocol state. A class rather than closures: a gateway holds tens of
 * thousands of these, and methods on the prototype cost nothing per socket.
 */
class WsClient implements Due {
  readonly connection: Connection
  private principal: Principal | undefined
  private bad = 0
  private chain: Promise<void> = Promise.resolve()
  private queued = 0
  private readonly bucket: TokenBucket
  private expiresAt: number | undefined

  constructor(
    private readonly shared: Shared,
    private readonly socket: WebSocket,
    private readonly ip: string,
    private readonly log: FastifyBaseLogger,
  ) {
    const { opts } = shared
    this.connection = new Connection({
      id: nextId++,
      outlet: socket,
      log: opts.realtime.eventLog,
      maxBufferedBytes: opts.maxBufferedBytes,
      logger: log,
    })
    this.bucket = new TokenBucket(opts.messageBurst, opts.messagesPerSecond, shared.clock)
  }

  /** A token in the URL: checked first, ahead of every message. */
  signInWith(token: string): void {
    this.chain = this.shared.opts.authenticate(token).then(
      (identity) => {
        if (!this.connection.closed) this.signIn(identity)
      },
      (err: unknown) => {
        this.fail(err, undefined)
        this.end(1008, 'invalid token')
      },
    )
  }

  closed(): void {
    this.connection.closed = true
    this.expireAt(undefined)
    this.shared.opts.realtime.disconnect(this.connection)
  }

  received(raw: Buffer, isBinary: boolean): void {
    // Checked as each message arrives, before it waits its turn: a client that sends
    // faster than it is served would otherwise grow the queue without bound.
    if (this.connection.closed) return
    const { opts, counters } = this.shared
    if (!this.bucket.take()) {
      counters.closedForRate++
      return this.end(CLOSE_POLICY, `message rate limit exceeded: at most ${opts.messagesPerSecond} messages per second (bursts of ${opts.messageBurst})`)
    }
    if (this.queued >= opts.maxQueuedMessages) {
      counters.closedForQueue++
      return this.end(CLOSE_POLICY, `too many messages waiting: at most ${opts.maxQueuedMessages} unanswered`)
    }
    this.queued++
    counters.handled++
    if (this.queued > counters.peakQueued) counters.peakQueued = this.queued
    this.chain = this.chain.then(() => this.handle(raw, isBinary)).finally(() => {
      this.queued--
    })
  }

  private end(code: number, reason: string): void {
    this.connection.closed = true
    this.socket.close(code, reason)
  }

  /** The token expired: the socket stops receiving now, not at its next message. */
  due(): void {
    this.expiresAt = undefined
    if (this.connection.closed) return
    this.shared.counters.expired++
    this.end(CLOSE_TOKEN_EXPIRED, 'token expired')
  }

  private expireAt(at: number | undefined): void {
    if (this.expiresAt !== undefined) this.shared.deadlines.remove(this.expiresAt, this)
    this.expiresAt = at
    if (at !== undefined) this.shared.deadlines.add(at, this)
  }

  private signIn(identity: WsIdentity): void {
    this.principal = identity.principal
    this.expireAt(identity.expiresAt)
  }

  private reply(msg: Record<string, unknown>, id: unknown): void {
    this.connection.send(JSON.stringify(id === undefined ? msg : { ...msg, id }))
  }

  private fail(err: unknown, id: unknown): void {
    const body = toErrorBody(err)
    if (body.statusCode >= 500) this.log.error({ err }, 'websocket request failed')
    this.reply({ type: 'error', code: body.code, message: body.message }, id)
    if (body.code === 'validation_failed' && ++this.bad > MAX_BAD_MESSAGES) this.end(1008, 'too many invalid messages')
  }

  private async handle(raw: Buffer, isBinary: boolean): Promise<void> {
    const { connection } = this
    if (connection.closed) return
    const { opts } = this.shared
    let msg: ClientMessage
    try {
      if (isBinary) throw invalidMessage('send text frames with JSON')
      if (raw.length > MAX_MESSAGE_BYTES) throw invalidMessage(`messages are limited to ${MAX_MESSAGE_BYTES} bytes`)
      msg = parse(raw.toString('utf8'))
    } catch (err) {
      return this.fail(err, undefined)
    }
    const id = typeof msg.id === 'string' || typeof msg.id === 'number' ? msg.id : undefined
    try {
      switch (msg.op) {
        case 'ping':
          return this.reply({ type: 'pong' }, id)
        case 'auth': {
          if (typeof msg.token !== 'string') throw invalidMessage('auth needs a token')
          const identity = await opts.authenticate(msg.token)
          if (connection.closed) return
          this.signIn(identity)
          return this.reply({ type: 'authenticated', role: identity.principal.role }, id)
        }
        case 'subscribe': {
          const channel = channelOf(msg.channel)
          const since = msg.since
          if (since !== undefined && (typeof since !== 'number' || !Number.isInteger(since) || since < 0)) {
            throw invalidMessage('since must be a non-negative integer seq')
          }
          if (!connection.has(channel) && connection.channelNames.length >= MAX_SUBSCRIPTIONS) {
            throw invalidMessage(`at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`)
          }
          if (channel.startsWith('track:') && !connection.has(channel) && opts.trackBudget && !(await opts.trackBudget(this.ip))) {
            throw new AppError('rate_limited', 'rate_limited', 'too many tracking lookups from this address: the /track rate limit applies to track: subscriptions; retry in a minute')
          }
          await opts.realtime.subscribe(connection, this.principal, channel, since as number | undefined, (seq) =>
            this.reply(seq === undefined ? { type: 'subscribed', channel } : { type: 'subscribed', channel, seq }, id),
          )
          return
        }
        case 'unsubscribe': {
          const channel = channelOf(msg.channel)
          opts.realtime.unsubscribe(connection, channel)
          return this.reply({ type: 'unsubscribed', channel }, id)
        }
        default:
          throw invalidMessage('op must be one of subscribe, unsubscribe, ping, auth')
      }
    } catch (err) {
      this.fail(err, id)
    }
  }
}
