import type { PackageEvent } from '../events/envelope.js'
import { systemTimers, type Timers } from '../platform/timers.js'
import type { LiveSink } from './ports.js'

interface Slot {
  lastEmitAt: number
  /** recordedAt (ms) of the newest point sent or waiting: an older one would move the marker back. */
  newest: number
  pending: PackageEvent | undefined
  timer: unknown
}

const SWEEP_EVERY_MS = 60_000

/**
 * Coalesces live location events per package to at most one per `intervalMs`:
 * the first goes out at once, later ones within the interval are merged into one
 * trailing event carrying the latest point. A point older than one already sent
 * is dropped (clients would see the package jump back). Per gateway: each
 * gateway throttles the batches it received.
 */
export class LiveThrottle {
  private readonly slots = new Map<string, Slot>()
  private lastSweep: number
  emitted = 0
  coalesced = 0

  constructor(private readonly sink: LiveSink, private readonly intervalMs = 333, private readonly timers: Timers = systemTimers) {
    this.lastSweep = timers.now()
  }

  offer(event: PackageEvent, recordedAtMs: number): void {
    const now = this.timers.now()
    const key = event.trackingNumber
    let slot = this.slots.get(key)
    if (!slot) {
      slot = { lastEmitAt: Number.NEGATIVE_INFINITY, newest: Number.NEGATIVE_INFINITY, pending: undefined, timer: undefined }
      this.slots.set(key, slot)
    }
    if (recordedAtMs <= slot.newest) return
    slot.newest = recordedAtMs
    if (slot.timer === undefined && now - slot.lastEmitAt >= this.intervalMs) {
      this.emit(slot, event, now)
    } else {
      if (slot.pending) this.coalesced++
      slot.pending = event
      slot.timer ??= this.timers.setTimeout(() => this.flush(slot), slot.lastEmitAt + this.intervalMs - now)
    }
    if (now - this.lastSweep >= SWEEP_EVERY_MS) this.sweep(now)
  }

  /** Pending trailing events are dropped: live locations are not worth delaying a shutdown for. */
  close(): void {
    for (const slot of this.slots.values()) if (slot.timer !== undefined) this.timers.clearTimeout(slot.timer)
    this.slots.clear()
  }

  get packages(): number {
    return this.slots.size
  }

  private flush(slot: Slot): void {
    slot.timer = undefined
    const event = slot.pending
    slot.pending = undefined
    if (event) this.emit(slot, event, this.timers.now())
  }

  private emit(slot: Slot, event: PackageEvent, now: number): void {
    slot.lastEmitAt = now
    this.emitted++
    this.sink(event)
  }

  /** Forgets packages that have been quiet for a while, so the map does not grow for ever. */
  private sweep(now: number): void {
    this.lastSweep = now
    for (const [key, slot] of this.slots) {
      if (slot.timer === undefined && now - slot.lastEmitAt >= SWEEP_EVERY_MS) this.slots.delete(key)
    }
  }
}
