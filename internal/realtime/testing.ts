import type { AddressInfo } from 'node:net'
import WebSocket from 'ws'
import type { TestGateway, TestLike } from '../platform/testing/harness.js'

/** A real WebSocket client over a port, with a queue of received messages. */
export interface WsClient {
  socket: WebSocket
  messages: Array<Record<string, unknown>>
  send(msg: Record<string, unknown>): void
  /** Resolves with the next message matching the predicate (already received ones count). */
  next(pred?: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  /** Resolves once `n` messages matching the predicate have arrived. */
  collect(n: number, pred: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Array<Record<string, unknown>>>
  closed: Promise<{ code: number; reason: string }>
  close(): void
}

/** Listens on 127.0.0.1 (random port) and returns the base ws:// URL. */
export async function listen(t: TestLike, gw: TestGateway): Promise<string> {
  await gw.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = gw.app.server.address() as AddressInfo
  return `ws://127.0.0.1:${port}/api/v1/ws`
}

export async function connect(t: TestLike, url: string): Promise<WsClient> {
  const socket = new WebSocket(url)
  const messages: Array<Record<string, unknown>> = []
  const waiters: Array<() => void> = []
  socket.on('message', (data) => {
    messages.push(JSON.parse(data.toString()) as Record<string, unknown>)
    for (const w of waiters.splice(0)) w()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
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
        } else waiters.push(poll)
      }
      poll()
    })
  let cursor = 0
  return {
    socket,
    messages,
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
    close: () => socket.close(),
  }
}

export const isEvent = (channel: string) => (m: Record<string, unknown>) => m.type === 'event' && m.channel === channel
export const seqOf = (m: Record<string, unknown>) => (m.event as { seq: number }).seq
