import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import WebSocket, { type ClientOptions } from 'ws'
import type { FastifyInstance } from 'fastify'
import type pg from 'pg'
import type { Bus } from '../../events/bus.js'
import { bearer, type TestLike } from '../../platform/testing/harness.js'

/** What these helpers need of a test gateway (app/testing/gateway.ts builds them). */
export interface TestGateway {
  app: FastifyInstance
  pool: pg.Pool
  bus: Bus
}

/** A real WebSocket client over a port, with a queue of received messages. */
export interface WsClient {
  socket: WebSocket
  messages: Array<Record<string, unknown>>
  /** Every text frame exactly as received (for checks on the raw wire data). */
  frames: string[]
  send(msg: Record<string, unknown>): void
  /** Resolves with the next message matching the predicate (already received ones count). */
  next(pred?: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  /** Resolves once `n` messages matching the predicate have arrived. */
  collect(n: number, pred: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Array<Record<string, unknown>>>
  closed: Promise<{ code: number; reason: string }>
  /** Protocol pings received since the socket was made (counted before 'open' resolves, so none is missed). */
  pings(): number
  close(): void
}

/** Listens on 127.0.0.1 (random port) and returns the base ws:// URL. */
export async function listen(t: TestLike, gw: TestGateway): Promise<string> {
  await gw.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = gw.app.server.address() as AddressInfo
  return `ws://127.0.0.1:${port}/api/v1/ws`
}

/** `options` go to the `ws` client, e.g. `{ autoPong: false }` for a client that ignores pings. */
export async function connect(t: TestLike, url: string, options?: ClientOptions): Promise<WsClient> {
  const socket = new WebSocket(url, options)
  const messages: Array<Record<string, unknown>> = []
  const frames: string[] = []
  const waiters: Array<() => void> = []
  let pings = 0
  socket.on('ping', () => pings++)
  socket.on('message', (data) => {
    const text = data.toString()
    frames.push(text)
    messages.push(JSON.parse(text) as Record<string, unknown>)
    for (const w of waiters.splice(0)) w()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() })
      for (const w of waiters.splice(0)) w()
    }),
  )
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  t.teardown(() => socket.terminate())
  const wait = (check: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages.slice(-5))}`)), timeoutMs)
      const poll = () => {
        if (check()) {
          clearTimeout(timer)
          resolve()
        } else if (socket.readyState === WebSocket.CLOSED) {
          // Nothing more can arrive: fail now rather than at the timeout.
          clearTimeout(timer)
          reject(new Error(`socket closed while waiting for ${what}; got ${JSON.stringify(messages.slice(-5))}`))
        } else waiters.push(poll)
      }
      poll()
    })
  let cursor = 0
  return {
    socket,
    messages,
    frames,
    closed,
    send: (msg) => socket.send(JSON.stringify(msg)),
    async next(pred = () => true, timeoutMs = 10_000) {
      let found: Record<string, unknown> | undefined
      await wait(() => {
        for (; cursor < messages.length; cursor++) {
          if (pred(messages[cursor]!)) {
            found = messages[cursor++]
            return true
          }
        }
        return false
      }, timeoutMs, 'a message')
      return found!
    },
    async collect(n, pred, timeoutMs = 15_000) {
      await wait(() => messages.filter(pred).length >= n, timeoutMs, `${n} messages`)
      return messages.filter(pred)
    },
    pings: () => pings,
    close: () => socket.close(),
  }
}

export const isEvent = (channel: string) => (m: Record<string, unknown>) => m.type === 'event' && m.channel === channel
export const seqOf = (m: Record<string, unknown>) => (m.event as { seq: number }).seq
export const isType = (type: string) => (m: Record<string, unknown>) => m.type === type

/** Polls a condition (e.g. server-side state) until it holds; fails after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Creates a package through the REST API and returns its tracking number. */
export async function createPackage(gw: TestGateway, token: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await gw.app.inject({ method: 'POST', url: '/api/v1/packages', headers: bearer(token), payload: { sender: { name: 'Sender' }, recipient: { name: 'Recipient' }, ...body } })
  if (res.statusCode !== 201) throw new Error(`create package: ${res.statusCode} ${res.body}`)
  return (res.json() as { trackingNumber: string }).trackingNumber
}

/** Posts a status update through the REST API; returns the HTTP status code. */
export async function postStatus(gw: TestGateway, token: string, tn: string, body: Record<string, unknown> = { status: 'in_transit' }): Promise<number> {
  const res = await gw.app.inject({ method: 'POST', url: `/api/v1/packages/${tn}/status`, headers: bearer(token), payload: body })
  return res.statusCode
}

/** Events of the gateway's data not yet published by an outbox relay. */
export async function outboxPending(gw: TestGateway): Promise<number> {
  const { rows } = await gw.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM package_events WHERE published_at IS NULL')
  return rows[0]!.n
}

/**
 * Waits until the broker has nothing more for the client: the outbox is drained,
 * then a live-only marker (`package.location`) is published through `via`'s bus
 * and awaited on the client. Hub queues are FIFO, so every event published before
 * the marker has been consumed (and delivered or dropped) by then. The client must
 * be subscribed to `package:<tn>` or `all`.
 */
export async function brokerBarrier(via: TestGateway, client: WsClient, tn: string): Promise<void> {
  await waitFor(async () => (await outboxPending(via)) === 0, 'the outbox to drain')
  const id = randomUUID()
  const now = new Date().toISOString()
  // No origin: every gateway's hub routes it, `via`'s own too.
  await via.bus.publish([{ event: { id, type: 'package.location', trackingNumber: tn, occurredAt: now, recordedAt: now, data: { lat: 0, lng: 0, recordedAt: now } } }])
  await client.collect(1, (m) => m.type === 'event' && (m.event as { id: string }).id === id)
}

/** Durable events (those with a seq) on the channel, in arrival order. */
export const durableSeqs = (client: WsClient, channel: string, tn?: string) =>
  client.messages
    .filter((m) => m.type === 'event' && m.channel === channel)
    .map((m) => m.event as { seq?: number; trackingNumber: string })
    .filter((e) => e.seq !== undefined && (tn === undefined || e.trackingNumber === tn))
    .map((e) => e.seq!)

/** [from, from+1, ..., to] */
export const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
