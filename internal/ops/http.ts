import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { responses } from '../platform/http/schemas.js'
import { REMOTE_FIGURES, type Stats } from './stats.js'

export type { Stats } from './stats.js'

/** Gathers the figures of /stats and /metrics from whoever owns them. */
export type StatsSource = () => Promise<Stats>

/** How status changes went to PostgreSQL: statements sent, changes in those that succeeded, statements that failed. */
export interface StatusWriteCounters {
  statements: number
  changes: number
  failed: number
}

const Counts = Type.Record(Type.String(), Type.Integer())
const Unknown = { description: 'null: could not be read in time (named in `unknown`)' }
const StatsSchema = Type.Object({
  packages: Type.Object({ total: Type.Union([Type.Integer(), Type.Null()], Unknown), byStatus: Counts }),
  websocket: Type.Object({ connections: Type.Integer(), subscriptions: Type.Integer() }),
  events: Type.Object({
    published: Type.Integer(),
    delivered: Type.Integer(),
    outboxPending: Type.Union([Type.Integer(), Type.Null()], Unknown),
    outboxOldestAgeS: Type.Union([Type.Number(), Type.Null()], Unknown),
  }),
  queues: Type.Record(
    Type.String(),
    Type.Object({ messages: Type.Integer(), consumers: Type.Integer(), retrying: Type.Optional(Type.Integer()), deadLetters: Type.Optional(Type.Integer()) }),
  ),
  cache: Type.Object({ hits: Type.Integer(), misses: Type.Integer() }),
  uptimeS: Type.Number(),
  unknown: Type.Array(Type.String(), { description: 'Figures not read within the time budget (packages, outbox, queues); their values are null, or no entries for queues' }),
})

/** `GET /stats` (admins and operators), under the API prefix. */
export const statsRoutes: FastifyPluginAsync<{ stats: StatsSource }> = async (app, { stats }) => {
  app.get('/stats', {
    config: { roles: ['admin', 'operator'] },
    schema: { tags: ['operations'], summary: 'Operational figures', security: [{ bearer: [] }], response: responses({ 200: StatsSchema }) },
  }, async () => stats())
}

export interface MetricsOptions {
  stats: StatsSource
  statusWrites?: () => StatusWriteCounters
  /** Other figures of this process served with these (request latency, the carriers role). */
  registries?: Registry[]
}

/** `GET /metrics`: Prometheus text, outside the API prefix, no auth (scrape it on a private network). */
export const metricsRoutes: FastifyPluginAsync<MetricsOptions> = async (app, { stats, statusWrites, registries = [] }) => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'delivertrack_' })
  let snapshot: Promise<Stats> | undefined
  // One stats read per scrape, shared by every gauge's collect().
  const current = () => (snapshot ??= stats().finally(() => setImmediate(() => (snapshot = undefined))))
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: Stats) => void) =>
    new Gauge({
      name: `delivertrack_${name}`,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await current()
        this.reset()
        fill(this, s)
      },
    })
  gauge('packages', 'Packages by status', ['status'], (g, s) => {
    for (const [status, n] of Object.entries(s.packages.byStatus)) g.set({ status }, n)
  })
  gauge('websocket_connections', 'Open WebSocket connections', [], (g, s) => g.set(s.websocket.connections))
  gauge('websocket_subscriptions', 'WebSocket channel subscriptions', [], (g, s) => g.set(s.websocket.subscriptions))
  gauge('events_published_total', 'Events this gateway published from the outbox', [], (g, s) => g.set(s.events.published))
  gauge('events_delivered_total', 'Event messages handed to WebSocket subscriptions', [], (g, s) => g.set(s.events.delivered))
  gauge('outbox_pending', 'Events written but not yet published', [], (g, s) => s.events.outboxPending !== null && g.set(s.events.outboxPending))
  gauge('outbox_oldest_age_seconds', 'Age of the oldest unpublished event', [], (g, s) => s.events.outboxOldestAgeS !== null && g.set(s.events.outboxOldestAgeS))
  gauge('queue_messages', 'Messages ready in a broker queue', ['queue'], (g, s) => {
    for (const [queue, q] of Object.entries(s.queues)) g.set({ queue }, q.messages)
  })
  gauge('queue_consumers', 'Consumers of a broker queue', ['queue'], (g, s) => {
    for (const [queue, q] of Object.entries(s.queues)) g.set({ queue }, q.consumers)
  })
  gauge('queue_retrying', 'Messages of a worker queue waiting in its delay queues for another attempt', ['queue'], (g, s) => {
    for (const [queue, q] of Object.entries(s.queues)) if (q.retrying !== undefined) g.set({ queue }, q.retrying)
  })
  gauge('queue_dead_letters', 'Messages in a worker queue\'s dead-letter queue (npm run dlq:requeue)', ['queue'], (g, s) => {
    for (const [queue, q] of Object.entries(s.queues)) if (q.deadLetters !== undefined) g.set({ queue }, q.deadLetters)
  })
  // 1 while a figure's samples are missing because its server did not answer in time, else 0.
  gauge('stat_unknown', 'A group of figures (packages, outbox, queues) that could not be read in time: its samples are absent', ['name'], (g, s) => {
    for (const name of REMOTE_FIGURES) g.set({ name }, s.unknown.includes(name) ? 1 : 0)
  })
  gauge('cache_hits_total', 'Package cache hits', [], (g, s) => g.set(s.cache.hits))
  gauge('cache_misses_total', 'Package cache misses', [], (g, s) => g.set(s.cache.misses))
  if (statusWrites) {
    // Changes per statement is how much status updates share a round trip and a commit.
    const counter = (name: keyof StatusWriteCounters, help: string) =>
      new Counter({
        name: `delivertrack_status_write_${name}_total`,
        help,
        registers: [registry],
        collect() {
          this.reset()
          this.inc(statusWrites()[name])
        },
      })
    counter('statements', 'Shared statements sent to PostgreSQL with status changes, retries included')
    counter('changes', 'Status changes carried by shared statements that succeeded')
    counter('failed', 'Shared statements that failed: refused by PostgreSQL (their changes then go one by one), a lost connection, or an error building them')
  }

  await app.register(prometheusRoute, { registry: Registry.merge([registry, ...registries]) })
}

/** `GET /metrics` over one registry: the worker's health port serves its figures with this. */
export const prometheusRoute: FastifyPluginAsync<{ registry: Registry }> = async (app, { registry }) => {
  app.get('/metrics', { config: { rateLimit: false }, schema: { tags: ['operations'], summary: 'Prometheus metrics' } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  )
}

/** A registry with the process's own figures (CPU, memory, event loop), for processes without /stats. */
export function processRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'delivertrack_' })
  return registry
}
