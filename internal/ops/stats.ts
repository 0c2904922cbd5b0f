import type { QueueStat } from '../events/bus.js'
import { singleFlight, withTimeout } from '../platform/deadline.js'

/** A figure read from PostgreSQL or the broker is null (queues: empty) when it could not be read in time; `unknown` names it. */
export interface Stats {
  packages: { total: number | null; byStatus: Record<string, number> }
  websocket: { connections: number; subscriptions: number }
  events: { published: number; delivered: number; outboxPending: number | null; outboxOldestAgeS: number | null }
  /** Worker queues add the messages waiting in their delay queues and their dead letters. */
  queues: Record<string, { messages: number; consumers: number; retrying?: number; deadLetters?: number }>
  cache: { hits: number; misses: number }
  uptimeS: number
  /** The figures this answer could not read in time: `packages`, `outbox`, `queues`. */
  unknown: string[]
}

/** How long /stats and /metrics wait for a figure before reporting it unknown; the answer stays under 2 s. */
export const STATS_BUDGET_MS = 1_500

/** The figures that come from another server, each of which may not answer in time. */
export type RemoteFigure = 'packages' | 'outbox' | 'queues'
export const REMOTE_FIGURES: readonly RemoteFigure[] = ['packages', 'outbox', 'queues']

export interface StatsReaders {
  /** PostgreSQL: packages by status. */
  packages: () => Promise<Record<string, number>>
  /** PostgreSQL: events not yet published. */
  outbox: () => Promise<{ pending: number; oldestAgeS: number }>
  /** The broker: the role queues. */
  queues: (timeoutMs: number) => Promise<Record<string, QueueStat>>
  /** What this process counts itself (never waits). */
  local: () => Pick<Stats, 'websocket' | 'cache'> & { published: number; delivered: number }
  log: { warn(obj: object, msg: string): void }
  budgetMs?: number
}

/**
 * A StatsSource that never waits on a hung server for longer than the budget: a
 * figure not read in time is null (queues: empty) and named in `unknown`. Each
 * figure is read by one call at a time, so scrapes during an outage do not pile
 * up queries behind the one that hangs.
 */
export function boundedStats(r: StatsReaders): () => Promise<Stats> {
  const budget = r.budgetMs ?? STATS_BUDGET_MS
  const packages = singleFlight(r.packages)
  const outbox = singleFlight(r.outbox)
  const read = async <T>(name: RemoteFigure, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await withTimeout(work(), budget, name)
    } catch (err) {
      r.log.warn({ err: (err as Error).message, figure: name }, 'stats: figure unknown')
      return undefined
    }
  }
  return async () => {
    const [byStatus, pending, queues] = await Promise.all([read('packages', packages), read('outbox', outbox), read('queues', () => r.queues(budget))])
    const local = r.local()
    const unknown = REMOTE_FIGURES.filter((_, i) => [byStatus, pending, queues][i] === undefined)
    return {
      packages: byStatus ? { total: Object.values(byStatus).reduce((sum, n) => sum + n, 0), byStatus } : { total: null, byStatus: {} },
      websocket: local.websocket,
      events: { published: local.published, delivered: local.delivered, outboxPending: pending?.pending ?? null, outboxOldestAgeS: pending?.oldestAgeS ?? null },
      queues: queues ?? {},
      cache: local.cache,
      uptimeS: Math.round(process.uptime()),
      unknown,
    }
  }
}
