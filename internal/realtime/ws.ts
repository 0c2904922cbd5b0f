import type { FastifyPluginAsync } from 'fastify'
import type { WebSocket } from 'ws'
import { Type } from 'typebox'
import type { Principal } from '../auth/domain.js'
import { AppError } from '../platform/errors.js'
import { toErrorBody } from '../platform/http/errors.js'
import { Connection } from './connection.js'
import type { RealtimeService } from './service.js'

export interface WsOptions {
  realtime: RealtimeService
  authenticate: (token: string) => Promise<Principal>
  heartbeatMs: number
  maxBufferedBytes: number
}

const MAX_MESSAGE_BYTES = 4096
const MAX_SUBSCRIPTIONS = 200
const MAX_BAD_MESSAGES = 20

interface ClientMessage {
  op?: unknown
  id?: unknown
  channel?: unknown
  since?: unknown
  token?: unknown
}

let nextId = 1

/**
 * `GET /api/v1/ws`: the contract's WebSocket protocol. Messages of one connection
 * are handled strictly in order; a client that keeps sending garbage is closed
 * with 1008, one that cannot keep up with 1013, a silent one after a missed
 * heartbeat.
 */
export const wsRoutes: FastifyPluginAsync<WsOptions> = async (app, opts) => {
  const { realtime } = opts
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
      querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 4096 })) }),
    },
  }, async (socket, request) => {
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
      sockets.delete(socket)
      realtime.disconnect(connection)
    })

    const token = (request.query as { token?: string }).token
    if (token) {
      chain = opts.authenticate(token).then(
        (p) => {
          principal = p
        },
        (err: unknown) => {
          fail(err, undefined)
          connection.closed = true
          socket.close(1008, 'invalid token')
        },
      )
    }

    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      chain = chain.then(async () => {
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
              principal = await opts.authenticate(msg.token)
              return reply({ type: 'authenticated', role: principal.role }, id)
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
      })
    })
  })
}

function invalidMessage(message: string): AppError {
  return new AppError('invalid', 'validation_failed', message)
}

function parse(text: string): ClientMessage {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw invalidMessage('message is not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidMessage('message must be a JSON object')
  return value as ClientMessage
}

/** Validates and normalises a channel name (tracking numbers upper-cased). */
export function channelOf(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > 100) throw invalidMessage('channel must be a string')
  if (raw === 'all') return raw
  const match = /^(package|track|user):(.+)$/.exec(raw.trim())
  if (!match) throw invalidMessage('channel must be package:<tn>, track:<tn>, user:<userId> or all')
  const [, kind, rest] = match as unknown as [string, string, string]
  if (kind === 'user') {
    if (!/^[0-9a-fA-F-]{36}$/.test(rest)) throw invalidMessage('user channel needs a user id')
    return `user:${rest.toLowerCase()}`
  }
  const tn = rest.trim().toUpperCase()
  if (!/^[A-Z0-9]{8,30}$/.test(tn)) throw invalidMessage('tracking number must be 8 to 30 letters A-Z or digits')
  return `${kind}:${tn}`
}
