// Test doubles for the LiveSocket: a scripted WebSocket and manual timers.
import type { LiveSocketOptions, SocketLike } from './socket.js'

export class FakeSocket implements SocketLike {
  sent: Array<Record<string, unknown>> = []
  closed: { code?: number; reason?: string } | undefined
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onclose: ((ev: { code: number; reason: string }) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>)
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason }
  }
  /** The server accepts the connection. */
  open(): void {
    this.onopen?.({})
  }
  /** The server sends a message. */
  receive(msg: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(msg) })
  }
  /** The connection drops. */
  drop(code = 1006, reason = ''): void {
    this.onclose?.({ code, reason })
  }
  /** Messages of an op, oldest first. */
  ops(op: string): Array<Record<string, unknown>> {
    return this.sent.filter((m) => m.op === op)
  }
  /** Confirms every subscribe sent so far, with the channel's current seq. */
  confirmAll(seqs: Record<string, number> = {}): void {
    for (const m of this.ops('subscribe')) {
      const channel = String(m.channel)
      this.receive({ type: 'subscribed', channel, id: m.id, ...(channel in seqs ? { seq: seqs[channel] } : {}) })
    }
  }
}

export class FakeTimers {
  private next = 1
  readonly pending = new Map<number, { fn: () => void; ms: number }>()
  readonly api: NonNullable<LiveSocketOptions['timers']> = {
    setTimeout: (fn, ms) => {
      const id = this.next++
      this.pending.set(id, { fn, ms })
      return id
    },
    clearTimeout: (id) => {
      this.pending.delete(id as number)
    },
  }
  /** Runs the timers pending now (not the ones they schedule); returns their delays. */
  fire(): number[] {
    const due = [...this.pending.entries()]
    this.pending.clear()
    for (const [, t] of due) t.fn()
    return due.map(([, t]) => t.ms)
  }
}

/** A connect() that records every socket it makes. */
export function socketFactory(): { connect: (url: string) => FakeSocket; sockets: FakeSocket[]; last: () => FakeSocket } {
  const sockets: FakeSocket[] = []
  return {
    sockets,
    connect: (url) => {
      const s = new FakeSocket(url)
      sockets.push(s)
      return s
    },
    last: () => sockets[sockets.length - 1]!,
  }
}
