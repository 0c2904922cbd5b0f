import type { FastifyPluginAsync } from 'fastify'
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
import { ConnectionsPerIp, Deadlines, TokenBucket } from './ws-limits.js'

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
    config: { auth: 'none', rateLimit: false },
    schema: {
      tags: ['realtime'],
      summary: 'WebSocket: live package events (protocol in the contract)',
      description: 'More than WS_MAX_CONNECTIONS_PER_IP open sockets from the client address: 429 `rate_limited` before the upgrade. Close codes: docs/api-changes.md.',
      querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 4096 })) }),
    },
    // Refused before the upgrade, as an ordinary 429 in the error shape.
    preValidation: async (request) => {
      if (perIp.full(request.ip)) {
        counters.refusedPerIp++
        throw new AppError('rate_limited', 'rate_limited', tooManyFromIp())
      }
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
    socket.on('pong', () => alive.set(socket, true))
    const connection = new Connection({
      id: nextId++,
      outlet: socket,
      log: realtime.eventLog,
      maxBufferedBytes: opts.maxBufferedBytes,
      onError: (err) => request.log.warn({ err }, 'websocket gap fill failed'),
    })
    realtime.connections.add(connection)
    let principal: Principal | undefined
    let bad = 0
    let chain = Promise.resolve()
    let queued = 0
    const bucket = new TokenBucket(opts.messageBurst, opts.messagesPerSecond, clock)
    let cancelExpiry: (() => void) | undefined

    const violate = (reason: string) => {
      connection.closed = true
      socket.close(CLOSE_POLICY, reason)
    }
    // The socket stops receiving the moment its token expires, not at its next message.
    const expire = () => {
      cancelExpiry = undefined
      if (connection.closed) return
      counters.expired++
      connection.closed = true
      socket.close(CLOSE_TOKEN_EXPIRED, 'token expired')
    }
    const expireAt = (at: number | undefined) => {
      cancelExpiry?.()
      cancelExpiry = at === undefined ? undefined : deadlines.at(at, expire)
    }
    const signIn = (identity: WsIdentity) => {
      principal = identity.principal
      expireAt(identity.expiresAt)
    }

    const reply = (msg: Record<string, unknown>, id: unknown) => {
      connection.send(JSON.stringify(id === undefined ? msg : { ...msg, id }))
    }
    const fail = (err: unknown, id: unknown) => {
      const body = toErrorBody(err)
      if (body.statusCode >= 500) request.log.error({ err }, 'websocket request failed')
      reply({ type: 'error', code: body.code, message: body.message }, id)
      if (body.code === 'validation_failed' && ++bad > MAX_BAD_MESSAGES) {
        connection.closed = true
        socket.close(1008, 'too many invalid messages')
      }
    }

    // Listeners go on before anything is awaited: a message that arrives while the
    // token is checked (an external token means a database round trip) would be
    // lost, and a socket closed meanwhile would never be cleaned up. The token
    // check heads the chain, so messages wait for it.
    socket.on('close', () => {
      connection.closed = true
      expireAt(undefined)
      perIp.release(ip)
      sockets.delete(socket)
      realtime.disconnect(connection)
    })

    const token = (request.query as { token?: string }).token
    if (token) {
      chain = opts.authenticate(token).then(
        (identity) => {
          if (!connection.closed) signIn(identity)
        },
        (err: unknown) => {
          fail(err, undefined)
          connection.closed = true
          socket.close(1008, 'invalid token')
        },
      )
    }

    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      // Checked as each message arrives, before it waits its turn: a client that sends
      // faster than it is served would otherwise grow the queue without bound.
      if (connection.closed) return
      if (!bucket.take()) {
        counters.closedForRate++
        return violate(`message rate limit exceeded: at most ${opts.messagesPerSecond} messages per second (bursts of ${opts.messageBurst})`)
      }
      if (queued >= opts.maxQueuedMessages) {
        counters.closedForQueue++
        return violate(`too many messages waiting: at most ${opts.maxQueuedMessages} unanswered`)
      }
      queued++
      counters.handled++
      if (queued > counters.peakQueued) counters.peakQueued = queued
      chain = chain.then(() => handle(raw, isBinary)).finally(() => {
        queued--
      })
    })

    async function handle(raw: Buffer, isBinary: boolean): Promise<void> {
      if (connection.closed) return
      let msg: ClientMessage
      try {
        if (isBinary) throw invalidMessage('send text frames with JSON')
        if (raw.length > MAX_MESSAGE_BYTES) throw invalidMessage(`messages are limited to ${MAX_MESSAGE_BYTES} bytes`)
        msg = parse(raw.toString('utf8'))
      } catch (err) {
        return fail(err, undefined)
      }
      const id = typeof msg.id === 'string' || typeof msg.id === 'number' ? msg.id : undefined
      try {
        switch (msg.op) {
          case 'ping':
            return reply({ type: 'pong' }, id)
          case 'auth': {
            if (typeof msg.token !== 'string') throw invalidMessage('auth needs a token')
            const identity = await opts.authenticate(msg.token)
            if (connection.closed) return
            signIn(identity)
            return reply({ type: 'authenticated', role: identity.principal.role }, id)
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
            if (channel.startsWith('track:') && !connection.has(channel) && opts.trackBudget && !(await opts.trackBudget(ip))) {
              throw new AppError('rate_limited', 'rate_limited', 'too many tracking lookups from this address: the /track rate limit applies to track: subscriptions; retry in a minute')
            }
            await realtime.subscribe(connection, principal, channel, since as number | undefined, (seq) =>
              reply(seq === undefined ? { type: 'subscribed', channel } : { type: 'subscribed', channel, seq }, id),
            )
            return
          }
          case 'unsubscribe': {
            const channel = channelOf(msg.channel)
            realtime.unsubscribe(connection, channel)
            return reply({ type: 'unsubscribed', channel }, id)
          }
          default:
            throw invalidMessage('op must be one of subscribe, unsubscribe, ping, auth')
        }
      } catch (err) {
        fail(err, id)
      }
  }
  })
}
