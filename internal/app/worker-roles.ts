import type { Config } from '../config/config.js'
import { parseRoles, WORKER_ROLES, type WorkerRole } from '../events/topology.js'

/** Roles that poll PostgreSQL on their own instead of consuming a queue. */
export const POLLER_ROLES = ['carriers'] as const
export type PollerRole = (typeof POLLER_ROLES)[number]

export interface WorkerRoles {
  queues: WorkerRole[]
  pollers: PollerRole[]
}

/**
 * `--only archive,carriers`: queue roles (events/topology.ts) and poller roles.
 * Without a list, every queue role, and `carriers` when CARRIER_PROVIDER names a provider.
 */
export function parseWorkerRoles(list: string | undefined, config: Pick<Config, 'CARRIER_PROVIDER'>): WorkerRoles {
  if (list === undefined) return { queues: [...WORKER_ROLES], pollers: config.CARRIER_PROVIDER ? ['carriers'] : [] }
  const names = list.split(',').map((r) => r.trim()).filter(Boolean)
  const pollers = POLLER_ROLES.filter((p) => names.includes(p))
  const rest = names.filter((n) => !(POLLER_ROLES as readonly string[]).includes(n))
  try {
    return { queues: rest.length > 0 ? parseRoles(rest.join(',')) : [], pollers }
  } catch (err) {
    throw new Error(`${(err as Error).message.replace(/\)$/, '')}, ${POLLER_ROLES.join(', ')})`, { cause: err })
  }
}
