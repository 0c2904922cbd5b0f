import type { Principal } from '../auth/domain.js'
import type { Package, StatusChange } from '../package/domain.js'
import type { Change } from '../package/entity.js'
import type { Written } from '../package/ports.js'
import { AppError, forbidden, notFound } from '../platform/errors.js'
import { currentRequestId, withRequestId } from '../platform/request-context.js'
import { inQueueOrder, principalOf, staleReason, type Client, type QueuedUpdate, type StatusUpdate, type UpdateRecord } from './domain.js'
import type { ApplyOutcome, StatusUpdateStore } from './ports.js'

/** The synchronous status route's rules (PackageService.statusDecision), for one principal and change. */
export type StatusRules = (principal: Principal, change: StatusChange) => (pkg: Package) => Promise<Change>

export interface StatusUpdateServiceDeps {
  store: StatusUpdateStore
  rules: StatusRules
  /** After an applied update: the package cache forgets it, the event path carries its events. */
  committed(written: Written): void
  /** After a batch was recorded: the relay hands it to the queue soon. */
  queued?(): void
  /** Where refusals are told (with the posting request's id, in a worker). */
  log?: { info(o: object, m: string): void }
}

const POSTERS = new Set<Principal['role']>(['admin', 'service'])

/** Asynchronous status updates: accepted at once, applied later by the `status-updates` workers. */
export class StatusUpdateService {
  constructor(private readonly deps: StatusUpdateServiceDeps) {}

  /** Records the batch durably (sorted by occurredAt) and answers at once; repeats of an externalId are duplicates. */
  async post(principal: Principal, updates: readonly StatusUpdate[]): Promise<{ accepted: number; duplicates: number }> {
    if (!POSTERS.has(principal.role)) throw forbidden('only service clients and admins post status updates')
    const result = await this.deps.store.enqueue(clientOf(principal), inQueueOrder(updates), currentRequestId())
    if (result.accepted > 0) this.deps.queued?.()
    return result
  }

  /** The client's own update; an admin may read any client's (`clientId` picks one when several share the externalId). */
  async get(principal: Principal, externalId: string, clientId?: string): Promise<UpdateRecord> {
    if (!POSTERS.has(principal.role)) throw forbidden('only service clients and admins read status updates')
    const admin = principal.role === 'admin'
    let record = await this.deps.store.get(externalId, admin ? (clientId ?? principal.id) : principal.id)
    if (!record && admin && clientId === undefined) record = await this.deps.store.get(externalId)
    if (!record) throw notFound('status update')
    return record
  }

  /**
   * Applies one update taken off the queue, exactly once, through the same rules as
   * the synchronous route. An update older than the package's latest status change
   * is refused (updates apply in occurredAt order; history is not rewritten).
   */
  apply(message: QueuedUpdate): Promise<ApplyOutcome> {
    // As part of the request that posted it: the event records its id, log lines name it.
    return withRequestId(message.requestId, () => this.applyNow(message))
  }

  /** After the queue gave up on an update (its last attempt failed): its client reads why on GET. */
  held(message: QueuedUpdate, attempts: number, err: Error): Promise<void> {
    return this.deps.store.hold(message.clientId, message.update.externalId, `not applied after ${attempts} attempts (last: ${err.message}); held for an operator to requeue`)
  }

  private async applyNow({ clientId, update }: QueuedUpdate): Promise<ApplyOutcome> {
    const outcome = await this.deps.store.apply(clientId, update, async (pkg, { latestStatusAt: latest, client, update: recorded }) => {
      const { externalId: _id, trackingNumber: _tn, ...change } = recorded
      if (latest && change.occurredAt.getTime() < latest.getTime()) throw new AppError('conflict', 'stale_update', staleReason(latest))
      return this.deps.rules(principalOf(client), change)(pkg)
    })
    if (outcome.state === 'applied') this.deps.committed(outcome.written)
    // A refusal is the integration's to fix: say which update and why.
    else if (outcome.state === 'refused') this.deps.log?.info({ clientId, externalId: update.externalId, trackingNumber: update.trackingNumber, reason: outcome.reason }, 'status update refused')
    return outcome
  }
}

export function clientOf(principal: Principal): Client {
  return { id: principal.id, kind: principal.kind, role: principal.role }
}
