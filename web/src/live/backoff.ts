/** Reconnect delays: exponential from `baseMs` up to `maxMs`, with jitter so tabs do not reconnect in lockstep. */
export interface Backoff {
  baseMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 500, maxMs: 30_000 }

/**
 * The delay before reconnection attempt `attempt` (0 for the first): a random
 * value between half and all of min(max, base * 2^attempt) ("equal jitter").
 */
export function reconnectDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempt, 30))
  return Math.round(ceiling / 2 + (ceiling / 2) * random())
}
