import { DURABLE_EVENT_TYPES } from './envelope.js'

export const WORKER_ROLES = ['archive', 'notify', 'webhooks', 'inbox', 'metrics'] as const
export type WorkerRole = (typeof WORKER_ROLES)[number]

/**
 * What each role's queue receives (topic patterns: `*` one word, `#` any). The
 * archive and notifications take durable events only (live locations have their
 * own history store); webhooks take everything and filter per endpoint. The
 * inbox names its event types one by one: `package.#` would also bring it the
 * live locations, none of which makes a notification. Metrics take the durable
 * events (the assignment events among them) that move its charts.
 */
export const ROLE_BINDINGS: Record<WorkerRole, readonly string[]> = {
  archive: DURABLE_EVENT_TYPES,
  notify: ['package.status_changed'],
  webhooks: ['package.#'],
  inbox: ['package.status_changed', 'package.assigned', 'package.assignment_cancelled'],
  metrics: DURABLE_EVENT_TYPES,
}

export interface RoleQueues {
  role: string
  /** Durable work queue. */
  work: string
  /** One queue per distinct retry delay; each hands its messages back to `work` when they are due. */
  delays: string[]
  /** Messages that failed every attempt (or can never succeed) wait here for an operator. */
  dead: string
}

/**
 * Names derive from the role and, for delay queues, the delay itself: queue
 * arguments cannot change once declared, so a new delay gets a new queue instead
 * of a conflict between processes configured differently.
 */
export function roleQueues(role: string, delaysMs: readonly number[]): RoleQueues {
  const work = `delivertrack.${role}`
  return { role, work, delays: [...new Set(delaysMs)].map((ms) => `${work}.retry.${ms}ms`), dead: `${work}.dead` }
}

/** Retry settings shared by every role. */
export interface RetryPolicy {
  /** Growing delays before the 1st, 2nd, ... retry; the last one repeats. */
  delaysMs: readonly number[]
  /** Attempts before a message is dead-lettered. */
  maxAttempts: number
}

/**
 * Where a message goes after failing attempt `attempt`: the delay to wait before
 * the next one, or `dead` when that was the last allowed attempt or the failure is
 * permanent.
 */
export function afterFailure(policy: RetryPolicy, attempt: number, permanent = false): { dead: true } | { dead: false; delayMs: number } {
  if (permanent || attempt >= policy.maxAttempts) return { dead: true }
  return { dead: false, delayMs: policy.delaysMs[Math.min(attempt, policy.delaysMs.length) - 1]! }
}

/** Whether a routing key matches a topic pattern (`*` one word, `#` zero or more). */
export function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.')
  const k = key.split('.')
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length
    if (p[i] === '#') return match(i + 1, j) || (j < k.length && match(i, j + 1))
    return j < k.length && (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1)
  }
  return match(0, 0)
}

/** Parses `WORKER_QUEUES` / `--only` lists ("archive,notify"); "none" is the empty list. */
export function parseRoles(list: string): WorkerRole[] {
  if (list.trim() === 'none') return []
  const roles = list.split(',').map((r) => r.trim()).filter(Boolean)
  for (const r of roles) if (!(WORKER_ROLES as readonly string[]).includes(r)) throw new Error(`unknown worker role "${r}" (expected ${WORKER_ROLES.join(', ')})`)
  return [...new Set(roles)] as WorkerRole[]
}

export const parseDelays = (list: string): number[] => list.split(',').map((d) => Number.parseInt(d, 10))
