import type { AfterShipTracking } from '../aftership.js'
import { journeyFor, stepsReached, trackingAt, type Journey } from './journeys.js'

export type FaultMode = 'rate_limit' | 'server_error' | 'timeout' | 'slow'
export const FAULT_MODES: readonly FaultMode[] = ['rate_limit', 'server_error', 'timeout', 'slow']

export interface Fault {
  mode: FaultMode
  /** rate_limit: the `retry-after` seconds (default 30). */
  retryAfterS?: number
  /** server_error: the status (default 503). */
  status?: number
  /** slow: how long before the answer (default 2000 ms). */
  delayMs?: number
}

interface QueuedFault extends Fault {
  /** Requests it still applies to; Infinity until cleared. */
  remaining: number
}

export interface SandboxTracking {
  trackingNumber: string
  slug: string
  journey: Journey
  createdAtMs: number
  /** The speed factor when it was created: its journey keeps that pace. */
  speed: number
  /** Steps already pushed by webhook. */
  pushed: number
}

export interface CallCounts {
  total: number
  get: number
  create: number
  faulted: number
  unauthorized: number
  webhooksSent: number
  webhooksFailed: number
}

const zeroCounts = (): CallCounts => ({ total: 0, get: 0, create: 0, faulted: 0, unauthorized: 0, webhooksSent: 0, webhooksFailed: 0 })

/**
 * Everything the sandbox remembers, in memory: trackings, its clock (the real
 * clock plus the minutes it was told to skip), the queued faults and the counts.
 */
export class SandboxState {
  private readonly trackings = new Map<string, SandboxTracking>()
  private faults: QueuedFault[] = []
  private offsetMs = 0
  counts: CallCounts = zeroCounts()

  constructor(
    public speed: number,
    private readonly clock: () => number = Date.now,
  ) {}

  now(): number {
    return this.clock() + this.offsetMs
  }

  /** Moves the sandbox clock forward: every journey advances by `minutes` times its speed. */
  advance(minutes: number): void {
    this.offsetMs += minutes * 60_000
  }

  find(slug: string, trackingNumber: string): SandboxTracking | undefined {
    return this.trackings.get(`${slug}/${trackingNumber.toUpperCase()}`)
  }

  create(slug: string, trackingNumber: string): SandboxTracking {
    const tn = trackingNumber.toUpperCase()
    const t: SandboxTracking = { trackingNumber: tn, slug, journey: journeyFor(tn), createdAtMs: this.now(), speed: this.speed, pushed: 0 }
    this.trackings.set(`${slug}/${tn}`, t)
    return t
  }

  reached(t: SandboxTracking): number {
    return stepsReached(t.journey, ((this.now() - t.createdAtMs) * t.speed) / 60_000)
  }

  view(t: SandboxTracking): AfterShipTracking {
    return trackingAt({ ...t, reached: this.reached(t) })
  }

  /** Trackings with steps not yet pushed, marked as pushed. */
  takeAdvanced(): SandboxTracking[] {
    const out: SandboxTracking[] = []
    for (const t of this.trackings.values()) {
      const reached = this.reached(t)
      if (reached > t.pushed) {
        t.pushed = reached
        out.push(t)
      }
    }
    return out
  }

  addFault(fault: Fault, count: number): void {
    this.faults.push({ ...fault, remaining: count > 0 ? count : Infinity })
  }

  clearFaults(): void {
    this.faults = []
  }

  /** The fault this request meets, if any, consumed. */
  takeFault(): Fault | undefined {
    const f = this.faults[0]
    if (!f) return undefined
    f.remaining -= 1
    if (f.remaining <= 0) this.faults.shift()
    return f
  }

  reset(): void {
    this.trackings.clear()
    this.faults = []
    this.offsetMs = 0
    this.counts = zeroCounts()
  }

  size(): number {
    return this.trackings.size
  }
}
