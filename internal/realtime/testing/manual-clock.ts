import type { Timers } from '../../platform/timers.js'

interface Timer {
  at: number
  fn: () => void
}

/** A Timers that moves only when the test says so; due timers fire in time order. */
export class ManualClock implements Timers {
  private readonly timers = new Set<Timer>()

  constructor(private t = Date.now()) {}

  now(): number {
    return this.t
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { at: this.t + ms, fn }
    this.timers.add(timer)
    return timer
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as Timer)
  }

  /** Moves to `to` (ms since the epoch), firing every timer due by then. */
  set(to: number): void {
    this.t = Math.max(this.t, to)
    for (;;) {
      const due = [...this.timers].filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at)[0]
      if (!due) return
      this.timers.delete(due)
      due.fn()
    }
  }

  advance(ms: number): void {
    this.set(this.t + ms)
  }
}
