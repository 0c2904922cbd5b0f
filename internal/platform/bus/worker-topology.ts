import type { BrokerConfig, Recovery } from 'rascal'
import { EXCHANGE } from './rascal.js'

type Vhost = NonNullable<BrokerConfig['vhosts']>[string]
/** The part of a rascal vhost a component adds to the bus: queues, bindings, publications, subscriptions. */
export type Topology = Pick<Vhost, 'queues' | 'bindings' | 'publications' | 'subscriptions'>

export const WORKER_ROLES = ['archive', 'notify', 'webhooks'] as const
export type WorkerRole = (typeof WORKER_ROLES)[number]

const DURABLE_TYPES = ['package.created', 'package.updated', 'package.status_changed', 'package.deleted', 'package.assigned']

/**
 * What each role's queue receives. The archive and notifications take durable
 * events only (live `package.location` pings have their own history store);
 * webhooks take everything and filter by each endpoint's subscription.
 */
const BINDING_KEYS: Record<WorkerRole, string[]> = {
  archive: DURABLE_TYPES,
  notify: ['package.status_changed'],
  webhooks: ['package.#'],
}

export interface WorkerQueueNames {
  role: WorkerRole
  /** Durable work queue bound to the events exchange. */
  work: string
  /** One delay queue per retry delay; each dead-letters back into `work` when its TTL expires. */
  delays: string[]
  /** Messages that failed every attempt (or can never succeed) wait here for an operator. */
  dead: string
}

export interface WorkerTopologyOptions {
  roles: readonly WorkerRole[]
  /** Growing redelivery delays; attempt n waits `delaysMs[min(n, len) - 1]`. */
  delaysMs: readonly number[]
  /** Also declare delay queues, publications and subscriptions (the worker); the gateway declares only what keeps events. */
  consume?: boolean
  prefetch?: Partial<Record<WorkerRole, number>>
}

/**
 * Names are derived from the role and, for delay queues, the delay itself: queue
 * arguments cannot change once declared, so a new delay gets a new queue instead
 * of a PRECONDITION_FAILED between processes configured differently.
 */
export function workerQueueNames(role: WorkerRole, delaysMs: readonly number[]): WorkerQueueNames {
  const work = `delivertrack.${role}`
  return { role, work, delays: [...new Set(delaysMs)].map((ms) => `${work}.retry.${ms}ms`), dead: `${work}.dead` }
}

/** Parses `WORKER_QUEUES` / `--only` lists ("archive,notify"); "none" is the empty list. */
export function parseRoles(list: string): WorkerRole[] {
  if (list.trim() === 'none') return []
  const roles = list.split(',').map((r) => r.trim()).filter(Boolean)
  for (const r of roles) if (!(WORKER_ROLES as readonly string[]).includes(r)) throw new Error(`unknown worker role "${r}" (expected ${WORKER_ROLES.join(', ')})`)
  return [...new Set(roles)] as WorkerRole[]
}

export const parseDelays = (list: string): number[] => list.split(',').map((d) => Number.parseInt(d, 10))

/**
 * The workers' part of the broker topology. Work and dead-letter queues are
 * declared identically by the gateway and the workers (both assert them, and
 * identical arguments never conflict), so events published while no worker runs
 * are kept. A message the work queue rejects without requeue dead-letters into
 * `dead`, so even rascal's fallback nack loses nothing.
 */
export function workerTopology(opts: WorkerTopologyOptions): Topology {
  const queues: NonNullable<Vhost['queues']> = {}
  const bindings: NonNullable<Vhost['bindings']> = {}
  const publications: NonNullable<Vhost['publications']> = {}
  const subscriptions: NonNullable<Vhost['subscriptions']> = {}
  for (const role of opts.roles) {
    const names = workerQueueNames(role, opts.delaysMs)
    queues[names.work] = { options: { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names.dead } } }
    queues[names.dead] = { options: { durable: true } }
    BINDING_KEYS[role].forEach((key, i) => {
      bindings[`${role}.${i}`] = { source: EXCHANGE, destination: names.work, destinationType: 'queue', bindingKey: key }
    })
    if (!opts.consume) continue
    for (const [i, delay] of names.delays.entries()) {
      const ms = [...new Set(opts.delaysMs)][i]!
      queues[delay] = { options: { durable: true, arguments: { 'x-message-ttl': ms, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names.work } } }
      publications[delay] = { queue: delay, confirm: true, options: { persistent: true } }
    }
    publications[names.dead] = { queue: names.dead, confirm: true, options: { persistent: true } }
    subscriptions[role] = {
      queue: names.work,
      prefetch: opts.prefetch?.[role] ?? 32,
      contentType: 'application/json',
      // Bounds the wait for in-flight messages when the subscription is cancelled at shutdown.
      closeTimeout: 30_000,
    } as never
  }
  return { queues, bindings, publications, subscriptions }
}

/**
 * rascal recovery chain for a failed message: the n-th failure is forwarded to the
 * n-th delay queue (the last delay repeats), and the one that uses up
 * `maxAttempts` to the dead-letter queue. rascal counts forwards in the message's
 * headers, so the count survives the trip through the delay queue and restarts.
 */
export function recoveryChain(names: WorkerQueueNames, maxAttempts: number, delaysMs: readonly number[]): Recovery[] {
  const chain: Recovery[] = []
  const unique = [...new Set(delaysMs)]
  for (let failure = 1; failure < maxAttempts; failure++) {
    const ms = delaysMs[Math.min(failure, delaysMs.length) - 1]!
    chain.push({ strategy: 'forward', publication: names.delays[unique.indexOf(ms)], attempts: failure, xDeathFix: true })
  }
  chain.push(...deadLetterChain(names))
  return chain
}

/**
 * The publication a failed message goes to, by the same rule as recoveryChain:
 * failure n waits in the delay queue of `delaysMs[min(n, len) - 1]`; the failure
 * that uses up `maxAttempts`, or a permanent one, goes to the dead-letter queue.
 */
export function retryPublication(names: WorkerQueueNames, attempt: number, maxAttempts: number, delaysMs: readonly number[], permanent = false): string {
  if (permanent || attempt >= maxAttempts) return names.dead
  const ms = delaysMs[Math.min(attempt, delaysMs.length) - 1]!
  return names.delays[[...new Set(delaysMs)].indexOf(ms)]!
}

/** Straight to the dead-letter queue (a message that can never succeed). If even that fails, rejecting dead-letters it through the queue's DLX. */
export function deadLetterChain(names: WorkerQueueNames): Recovery[] {
  return [{ strategy: 'forward', publication: names.dead, xDeathFix: true }, { strategy: 'nack' }]
}

export interface WorkerQueueStat {
  messages: number
  consumers: number
  /** Messages waiting in the role's delay queues for their next attempt. */
  retrying: number
  deadLetters: number
}

/** Depth, consumers, retrying and dead letters of each role's queues (roles whose work queue does not exist are left out). */
export async function workerQueueStats(
  bus: { queueStats(names: string[]): Promise<Record<string, { messages: number; consumers: number }>> },
  roles: readonly WorkerRole[],
  delaysMs: readonly number[],
): Promise<Record<string, WorkerQueueStat>> {
  const all = roles.map((r) => workerQueueNames(r, delaysMs))
  const raw = await bus.queueStats(all.flatMap((n) => [n.work, ...n.delays, n.dead]))
  const out: Record<string, WorkerQueueStat> = {}
  for (const n of all) {
    const work = raw[n.work]
    if (!work) continue
    const retrying = n.delays.reduce((sum, d) => sum + (raw[d]?.messages ?? 0), 0)
    out[n.work] = { messages: work.messages, consumers: work.consumers, retrying, deadLetters: raw[n.dead]?.messages ?? 0 }
  }
  return out
}
