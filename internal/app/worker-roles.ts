import type { Config } from '../config/config.js'
import { parseRoles, WORKER_ROLES, type WorkerRole } from '../events/topology.js'

/** Roles that poll PostgreSQL on their own instead of consuming a queue. */
export const POLLER_ROLES = ['carriers'] as const
export type PollerRole = (typeof POLLER_ROLES)[number]

/** Roles that consume a queue of their own rather than events off the bus (status updates are commands). */
export const OWN_QUEUE_ROLES = ['status-updates'] as const
export type OwnQueueRole = (typeof OWN_QUEUE_ROLES)[number]

export interface WorkerRoles {
  queues: WorkerRole[]
  pollers: PollerRole[]
  ownQueues: OwnQueueRole[]
}

/**
 * `--only archive,carriers`: queue roles (events/topology.ts) and poller roles.
 * Without a list, every queue role, `status-updates`, and `carriers` when CARRIER_PROVIDER names a provider.
 */
export function parseWorkerRoles(list: string | undefined, config: Pick<Config, 'CARRIER_PROVIDER'>): WorkerRoles {
  if (list === undefined) return { queues: [...WORKER_ROLES], pollers: config.CARRIER_PROVIDER ? ['carriers'] : [], ownQueues: [...OWN_QUEUE_ROLES] }
  const names = list.split(',').map((r) => r.trim()).filter(Boolean)
  const pollers = POLLER_ROLES.filter((p) => names.includes(p))
  const ownQueues = OWN_QUEUE_ROLES.filter((r) => names.includes(r))
  const others = [...POLLER_ROLES, ...OWN_QUEUE_ROLES] as readonly string[]
  const rest = names.filter((n) => !others.includes(n))
  try {
    return { queues: rest.length > 0 ? parseRoles(rest.join(',')) : [], pollers, ownQueues }
  } catch (err) {
    throw new Error(`${(err as Error).message.replace(/\)$/, '')}, ${others.join(', ')})`, { cause: err })
  }
}
