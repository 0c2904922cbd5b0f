import type { PackageEvent } from '../api/types.js'
import { DEFAULT_BACKOFF, reconnectDelay, type Backoff } from './backoff.js'

/** What the console needs of a browser WebSocket (a fake one in tests). */
export interface SocketLike {
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number; reason: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
}

export type LinkState = 'connecting' | 'open' | 'reconnecting' | 'stopped'

export interface LinkStatus {
  state: LinkState
  /** Failed attempts since the link last worked. */
  attempt: number
  /** While reconnecting: the wait before the next attempt. */
  retryInMs?: number
}

export interface ChannelListener {
  onEvent(event: PackageEvent): void
  /**
   * After the server confirmed the subscription. `resumed` is true after a
   * reconnect: package:/track: channels were resumed with `since` (nothing lost),
   * user:/all channels were not (their listener should refetch once).
   */
  onSubscribed?(info: { seq?: number; resumed: boolean }): void
  onError?(error: { code: string; message: string }): void
  /**
   * The server ended the subscription itself: the user's access changed (package
   * reassigned or given to another owner, role changed, account deleted). The
   * listener should fetch its data again to see what the user may still see.
   */
  onRevoked?(info: { code: string; message: string }): void
}

export interface LiveSocketOptions {
  url: () => string
  connect: (url: string) => SocketLike
  onStatus?: (status: LinkStatus) => void
  /**
   * The server refused the token, or closed the link when it expired (4401): refresh
   * it and call setToken. After a 4401 the link reconnects with the fresh token.
   */
  onAuthFailed?: () => void
  backoff?: Backoff
  random?: () => number
  timers?: { setTimeout: (fn: () => void, ms: number) => unknown; clearTimeout: (handle: unknown) => void }
  /** An app-level ping this often; a link silent for two intervals is replaced. */
  pingIntervalMs?: number
}

interface Listener {
  listener: ChannelListener
  confirmed: boolean
}

interface Channel {
  listeners: Set<Listener>
  /** Highest durable seq seen per tracking number: drops duplicates, and is `since` on resubscription. */
  seqs: Map<string, number>
  /** The tracking number of a single-package channel (package:, track:); those resume with since. */
  tn: string | undefined
}

type Pending = { kind: 'subscribe'; channel: string } | { kind: 'auth' }

/** The server's close code for an access token that expired while the link was open. */
export const TOKEN_EXPIRED = 4401

const singlePackage = (channel: string) => (/^(package|track):/.test(channel) ? channel.slice(channel.indexOf(':') + 1) : undefined)

/**
 * The tab's one WebSocket: every cache entry that wants live events subscribes a
 * listener to a channel here, and listeners of the same channel share one server
 * subscription. The link reconnects with backoff and resubscribes, resuming
 * package channels with `since` so no durable event is missed or repeated.
 */
export class LiveSocket {
  private socket: SocketLike | undefined
  private open = false
  private token: string | null = null
  private readonly channels = new Map<string, Channel>()
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private attempt = 0
  private retryTimer: unknown
  private pingTimer: unknown
  private heard = true
  private stopped = true
  /** Closed with 4401: the next token set reconnects at once, without waiting out the backoff. */
  private expired = false
  private current: LinkStatus = { state: 'stopped', attempt: 0 }
  private readonly timers: NonNullable<LiveSocketOptions['timers']>

  constructor(private readonly opts: LiveSocketOptions) {
    this.timers = opts.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) }
  }

  get status(): LinkStatus {
    return this.current
  }

  /** Opens the link (idempotent). */
  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.connect()
  }

  /** Closes the link for good (until start). */
  stop(): void {
    this.stopped = true
    this.clearTimers()
    this.drop()
    this.setStatus({ state: 'stopped', attempt: 0 })
  }

  /** Reconnects now instead of waiting out the backoff (the browser came back online). */
  reconnectNow(): void {
    if (this.stopped || this.open) return
    this.restart()
  }

  /** Signs the link in (or up to a fresh token); null signs it out by reconnecting as a guest. */
  setToken(token: string | null): void {
    if (token === this.token) return
    const had = this.token
    this.token = token
    if (!this.open) {
      if (this.expired && !this.stopped) {
        this.expired = false
        this.restart()
      }
      return
    }
    if (token) this.request({ op: 'auth', token }, { kind: 'auth' })
    else if (had) this.restart()
  }

  /** Adds a listener to a channel; returns its removal. `since` resumes a single-package channel. */
  subscribe(channel: string, listener: ChannelListener, opts: { since?: number } = {}): () => void {
    let ch = this.channels.get(channel)
    const entry: Listener = { listener, confirmed: false }
    if (ch) {
      ch.listeners.add(entry)
      // Already confirmed by the server: tell the newcomer (after the caller has its handle).
      if ([...ch.listeners].some((l) => l.confirmed)) {
        queueMicrotask(() => {
          if (!ch!.listeners.has(entry) || entry.confirmed) return
          entry.confirmed = true
          listener.onSubscribed?.({ resumed: false })
        })
      }
    } else {
      ch = { listeners: new Set([entry]), seqs: new Map(), tn: singlePackage(channel) }
      if (ch.tn !== undefined && opts.since !== undefined) ch.seqs.set(ch.tn, opts.since)
      this.channels.set(channel, ch)
      if (this.open) this.sendSubscribe(channel, ch)
    }
    return () => {
      const c = this.channels.get(channel)
      if (!c || !c.listeners.delete(entry) || c.listeners.size > 0) return
      this.channels.delete(channel)
      if (this.open) this.send({ op: 'unsubscribe', channel })
    }
  }

  private restart(): void {
    this.expired = false
    this.clearTimers()
    this.drop(1000, 'reconnecting')
    this.connect()
  }

  private connect(): void {
    this.setStatus({ state: this.attempt === 0 ? 'connecting' : 'reconnecting', attempt: this.attempt })
    let socket: SocketLike
    try {
      socket = this.opts.connect(this.opts.url())
    } catch {
      return this.scheduleReconnect()
    }
    this.socket = socket
    socket.onopen = () => {
      if (socket !== this.socket) return
      this.open = true
      this.heard = true
      this.pending.clear()
      if (this.token) this.request({ op: 'auth', token: this.token }, { kind: 'auth' })
      for (const [name, ch] of this.channels) this.sendSubscribe(name, ch)
      this.setStatus({ state: 'open', attempt: this.attempt })
      this.schedulePing()
    }
    socket.onmessage = (ev) => {
      if (socket !== this.socket) return
      this.heard = true
      if (this.attempt !== 0) {
        this.attempt = 0
        this.setStatus({ state: 'open', attempt: 0 })
      }
      if (typeof ev.data === 'string') this.handle(ev.data)
    }
    socket.onclose = (ev) => {
      if (socket !== this.socket) return
      this.drop()
      if (!this.stopped) this.scheduleReconnect()
      if (ev.code === TOKEN_EXPIRED) {
        // Not a fault of the link: reconnect as soon as the token is fresh, resuming with since.
        this.expired = true
        this.opts.onAuthFailed?.()
      } else if (ev.code === 1008 && /token/i.test(ev.reason)) this.opts.onAuthFailed?.()
    }
    socket.onerror = () => undefined // a close event always follows
  }

  private handle(text: string): void {
    let msg: { type?: string; id?: number; channel?: string; seq?: number; event?: unknown; code?: string; message?: string }
    try {
      msg = JSON.parse(text) as typeof msg
    } catch {
      return
    }
    const pending = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined
    if (pending) this.pending.delete(msg.id!)
    switch (msg.type) {
      case 'subscribed':
        return this.confirmed(msg.channel ?? '', msg.seq)
      case 'event':
        return this.deliver(msg.channel ?? '', msg.event as PackageEvent)
      case 'error':
        if (pending?.kind === 'auth') this.opts.onAuthFailed?.()
        else if (pending?.kind === 'subscribe') {
          for (const l of this.channels.get(pending.channel)?.listeners ?? []) l.listener.onError?.({ code: msg.code ?? 'internal', message: msg.message ?? '' })
        }
        return
      case 'unsubscribed':
        return this.revoked(msg.channel ?? '', msg.code ?? 'forbidden', msg.message ?? '')
      default:
        return // pong, authenticated
    }
  }

  /** An `unsubscribed` for a channel still held here was not asked for: access was withdrawn. */
  private revoked(channel: string, code: string, message: string): void {
    const ch = this.channels.get(channel)
    if (!ch) return // the answer to our own unsubscribe
    // Not resubscribed on a reconnect: a listener that still wants it subscribes again.
    this.channels.delete(channel)
    for (const l of ch.listeners) l.listener.onRevoked?.({ code, message })
  }

  private confirmed(channel: string, seq: number | undefined): void {
    const ch = this.channels.get(channel)
    if (!ch) return
    if (ch.tn !== undefined && seq !== undefined && !ch.seqs.has(ch.tn)) ch.seqs.set(ch.tn, seq)
    for (const l of ch.listeners) {
      const resumed = l.confirmed
      l.confirmed = true
      l.listener.onSubscribed?.({ seq, resumed })
    }
  }

  private deliver(channel: string, event: PackageEvent): void {
    const ch = this.channels.get(channel)
    if (!ch || !event || typeof event.trackingNumber !== 'string') return
    if (typeof event.seq === 'number') {
      const last = ch.seqs.get(event.trackingNumber)
      if (last !== undefined && event.seq <= last) return
      ch.seqs.set(event.trackingNumber, event.seq)
    }
    for (const l of [...ch.listeners]) l.listener.onEvent(event)
  }

  private sendSubscribe(channel: string, ch: Channel): void {
    const since = ch.tn !== undefined ? ch.seqs.get(ch.tn) : undefined
    this.request(since === undefined ? { op: 'subscribe', channel } : { op: 'subscribe', channel, since }, { kind: 'subscribe', channel })
  }

  private request(msg: Record<string, unknown>, pending: Pending): void {
    const id = this.nextId++
    this.pending.set(id, pending)
    this.send({ ...msg, id })
  }

  private send(msg: Record<string, unknown>): void {
    try {
      this.socket?.send(JSON.stringify(msg))
    } catch {
      // Closing: the close handler reconnects and resubscribes.
    }
  }

  private schedulePing(): void {
    const every = this.opts.pingIntervalMs ?? 25_000
    this.pingTimer = this.timers.setTimeout(() => {
      if (!this.open) return
      if (!this.heard) {
        // Silent for two intervals: the link is dead even if the browser has not noticed.
        this.drop(4000, 'heartbeat timeout')
        return this.scheduleReconnect()
      }
      this.heard = false
      this.send({ op: 'ping' })
      this.schedulePing()
    }, every)
  }

  private scheduleReconnect(): void {
    if (this.stopped) return
    const delay = reconnectDelay(this.attempt, this.opts.backoff ?? DEFAULT_BACKOFF, this.opts.random)
    this.attempt++
    this.setStatus({ state: 'reconnecting', attempt: this.attempt, retryInMs: delay })
    this.timers.clearTimeout(this.retryTimer)
    this.retryTimer = this.timers.setTimeout(() => this.connect(), delay)
  }

  /** Forgets the current socket (its late events are ignored) and the per-link state. */
  private drop(code = 1000, reason = 'bye'): void {
    const socket = this.socket
    this.socket = undefined
    this.open = false
    this.pending.clear()
    this.timers.clearTimeout(this.pingTimer)
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = null
      try {
        socket.close(code, reason)
      } catch {
        // already closed
      }
    }
  }

  private clearTimers(): void {
    this.timers.clearTimeout(this.retryTimer)
    this.timers.clearTimeout(this.pingTimer)
  }

  private setStatus(status: LinkStatus): void {
    this.current = status
    this.opts.onStatus?.(status)
  }
}
