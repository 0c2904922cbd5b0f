import type { Subscriber } from '../platform/hub/hub.js'
import { withoutActor, type EventEnvelope } from '../events/envelope.js'

/** What the hub carries: the event already serialized for one channel, plus what ordering needs. */
export interface ChannelMessage {
  trackingNumber: string
  /** Durable events only; live-only events (locations) have none and skip ordering. */
  seq?: number
  /** The frame every subscriber of the channel may get. */
  json: string
  /** The frame with the event's actor, for staff subscribers (set only where the two differ). */
  staffJson?: string
}

/** Reads the durable event log to fill gaps (the exact events a client missed). */
export interface EventLog {
  /** Durable events of the package with seq > afterSeq, in seq order. */
  since(trackingNumber: string, afterSeq: number): Promise<EventEnvelope[]>
}

/** The socket side of a connection: what the protocol needs from `ws`. */
export interface Outlet {
  send(data: string): void
  readonly bufferedAmount: number
  close(code: number, reason: string): void
}

interface ChannelState {
  /** Last seq sent on this channel, per package (one entry for package:/track:, many for user:/all). */
  cursors: Map<string, number>
  /** While filling a gap from the log, live messages wait here in arrival order. */
  buffer: ChannelMessage[] | undefined
  serialize: (env: EventEnvelope) => string
  /** The subscriber sees who caused events (staff); everyone else gets them without `actor`. */
  staff: boolean
}

export interface ConnectionOptions {
  id: number
  outlet: Outlet
  log: EventLog
  /** Close with 1013 when the socket's unsent bytes pass this. */
  maxBufferedBytes: number
  /** Close with 1013 when a channel has this many messages waiting behind a gap fill. */
  maxPending?: number
  /** Where a failed gap fill is reported (the socket is closed 1011 either way). */
  logger?: { warn(obj: object, msg: string): void }
}

/**
 * One WebSocket client's subscriptions. Per channel and package it remembers the
 * last durable seq sent and guarantees the client sees seq+1, seq+2, ... with no
 * gap and no duplicate: older or repeated seqs are dropped; a jump ahead is filled
 * from the event log before the live event is sent.
 */
export class Connection implements Subscriber<ChannelMessage> {
  readonly id: number
  private readonly channels = new Map<string, ChannelState>()
  closed = false
  sent = 0

  constructor(private readonly opts: ConnectionOptions) {
    this.id = opts.id
  }

  /**
   * Starts a channel in catching-up mode: live messages are buffered until
   * `resume` has sent the history, so nothing that happens meanwhile is lost.
   */
  open(channel: string, serialize: (env: EventEnvelope) => string, staff = false): void {
    this.channels.set(channel, { cursors: new Map(), buffer: [], serialize, staff })
  }

  /** The subscriber's role changed: whether it sees events' actors from now on. */
  setStaff(channel: string, staff: boolean): void {
    const state = this.channels.get(channel)
    if (state) state.staff = staff
  }

  has(channel: string): boolean {
    return this.channels.has(channel)
  }

  get channelNames(): string[] {
    return [...this.channels.keys()]
  }

  close(channel: string): void {
    this.channels.delete(channel)
  }

  /**
   * Sends the history after `since` (when given) for the channel's package, then
   * whatever was buffered, then goes live. `currentSeq` is where a client without
   * `since` starts.
   */
  async resume(channel: string, trackingNumber: string | undefined, currentSeq: number | undefined, since: number | undefined): Promise<void> {
    const state = this.channels.get(channel)
    if (!state) return
    if (trackingNumber !== undefined && currentSeq !== undefined) {
      const from = since !== undefined && since < currentSeq ? since : currentSeq
      state.cursors.set(trackingNumber, from)
      if (from < currentSeq) await this.fill(state, trackingNumber, from)
    }
    await this.drain(channel, state)
  }

  deliver(channel: string, message: ChannelMessage): void {
    const state = this.channels.get(channel)
    if (!state || this.closed) return
    if (state.buffer) {
      state.buffer.push(message)
      if (state.buffer.length > (this.opts.maxPending ?? 10_000)) this.tooSlow()
      return
    }
    const frame = state.staff && message.staffJson !== undefined ? message.staffJson : message.json
    if (message.seq === undefined) return this.send(frame)
    const last = state.cursors.get(message.trackingNumber)
    if (last === undefined || message.seq === last + 1) {
      state.cursors.set(message.trackingNumber, message.seq)
      return this.send(frame)
    }
    if (message.seq <= last) return
    // A gap: fetch what is missing, then continue with this message and anything after it.
    state.buffer = [message]
    void this.fill(state, message.trackingNumber, last)
      .then(() => {
        // The log is the record: if it lacks the missing seqs, do not read it again and again.
        if ((state.cursors.get(message.trackingNumber) ?? last) < message.seq! - 1) state.cursors.set(message.trackingNumber, message.seq! - 1)
        return this.drain(channel, state)
      })
      .catch((err: unknown) => {
        this.opts.logger?.warn({ err }, 'websocket gap fill failed')
        // Without the missing events the channel can neither skip them nor go on:
        // close, so the client reconnects and resumes with since.
        this.shutdown(1011, 'could not read the event log: reconnect and resume with since')
      })
  }

  private async fill(state: ChannelState, trackingNumber: string, after: number): Promise<void> {
    const missing = await this.opts.log.since(trackingNumber, after)
    for (const env of missing) {
      if (this.closed) return
      const last = state.cursors.get(trackingNumber) ?? after
      if (env.seq === undefined || env.seq <= last) continue
      state.cursors.set(trackingNumber, env.seq)
      this.send(state.serialize(state.staff ? env : withoutActor(env)))
    }
  }

  private async drain(channel: string, state: ChannelState): Promise<void> {
    while (state.buffer && state.buffer.length > 0 && !this.closed) {
      const pending = state.buffer
      state.buffer = undefined
      const rest = pending.splice(0)
      for (let i = 0; i < rest.length; i++) {
        this.deliver(channel, rest[i]!)
        if (state.buffer) {
          // deliver() hit a gap and started a fill; the remaining messages queue behind it.
          ;(state.buffer as ChannelMessage[]).push(...rest.slice(i + 1))
          return
        }
      }
    }
    if (state.buffer && state.buffer.length === 0) state.buffer = undefined
  }

  send(json: string): void {
    if (this.closed) return
    if (this.opts.outlet.bufferedAmount > this.opts.maxBufferedBytes) return this.tooSlow()
    this.opts.outlet.send(json)
    this.sent++
  }

  private tooSlow(): void {
    this.shutdown(1013, 'client too slow: reconnect and resume with since')
  }

  private shutdown(code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    this.opts.outlet.close(code, reason)
  }
}
