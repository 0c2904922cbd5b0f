import type { Principal } from '../auth/domain.js'
import type { Assignment } from '../delivery/domain.js'
import type { EventEnvelope } from '../events/envelope.js'
import type { Delivery, RoleHandler, RoleLogger } from '../events/roles.js'
import { isTerminal } from '../package/domain.js'
import { AppError } from '../platform/errors.js'
import { DISPATCH_PRINCIPAL, isOwnFleet, pickDriver, type Candidate, type CloseReason, type DispatchRecord, type PackageView, type PassReason } from './domain.js'
import type { DispatchStore } from './ports.js'

/** The gateway's assignment rules (delivery/service.ts), called in process over dispatch's own connections. */
export interface Assigner {
  assign(principal: Principal, trackingNumber: string, input: { driverId: string; replace?: boolean }, ifMatch?: number): Promise<Assignment>
}

/** What dispatch counts; metrics.ts turns it into Prometheus figures. */
export interface DispatchObserver {
  /** An offer was committed; `sinceCreatedS` for the first offer of a new package. */
  offered(cause: 'new' | PassReason | 'retry', sinceCreatedS?: number): void
  waiting(): void
  closed(reason: CloseReason): void
  passedOver(reason: PassReason): void
}

export interface DispatchServiceDeps {
  store: DispatchStore
  assigner: Assigner
  /** DISPATCH_AUTO_ASSIGN: without it new packages are left to staff. */
  autoAssign: boolean
  /** DISPATCH_ACCEPT_TIMEOUT_S: an offer unanswered this long passes to the next driver. */
  acceptTimeoutS: number
  clock?: () => Date
  observer?: DispatchObserver
  log: RoleLogger
}

/** Offers per sweep at most: a long backlog is worked off over several sweeps. */
const SWEEP_BATCH = 200

/**
 * The dispatch role: each new own-fleet package is offered to a driver (on shift,
 * fewest active assignments, nearest to the origin), through the same assignment
 * rules as the gateway, so an admin assigning at the same moment wins or loses
 * cleanly and a package never has two active offers (the database refuses a second).
 * A decline or a timeout passes the driver over for the next. One package's work is
 * done one step at a time in this process (events and the sweep queue per package).
 * Idempotent: a redelivered event finds the offer already made and records it.
 */
export class DispatchService implements RoleHandler {
  readonly role = 'dispatch'
  private readonly now: () => Date
  private readonly chains = new Map<string, Promise<void>>()
  /** Offers this process is making now, per driver: counted as active when picking, so a burst is spread out. */
  private readonly picking = new Map<string, number>()

  constructor(private readonly deps: DispatchServiceDeps) {
    this.now = deps.clock ?? (() => new Date())
  }

  async handle({ event }: Delivery): Promise<void> {
    if (!this.deps.autoAssign) return
    if (event.type === 'package.created') return this.serial(event.trackingNumber, () => this.created(event))
    if (event.type === 'package.assignment_declined') return this.serial(event.trackingNumber, () => this.declined(event))
  }

  /**
   * Offers that waited DISPATCH_ACCEPT_TIMEOUT_S pass to the next driver; packages
   * nobody could take are offered again (a driver may have come on shift).
   */
  async sweep(): Promise<number> {
    if (!this.deps.autoAssign) return 0
    const now = this.now()
    const due = await this.deps.store.due(new Date(now.getTime() - this.deps.acceptTimeoutS * 1000), SWEEP_BATCH)
    for (const record of due) {
      // offered: past its timeout; waiting or open: offered again.
      await this.serial(record.trackingNumber, () => (record.state === 'offered' ? this.timedOut(record) : this.offerNext(record.packageId, record.trackingNumber, 'retry'))).catch((err: Error) =>
        this.deps.log.warn({ trackingNumber: record.trackingNumber, err: err.message }, 'dispatch sweep: package left for the next sweep'),
      )
    }
    return due.length
  }

  private async created(event: EventEnvelope): Promise<void> {
    const data = event.data as { id?: string; external?: boolean; carrier?: string }
    if (data.external === true || (data.carrier !== undefined && !isOwnFleet({ carrier: data.carrier, external: false }))) return
    const view = await this.deps.store.view(event.trackingNumber)
    if (!view || view.deleted || !isOwnFleet(view)) return
    const record = await this.deps.store.take(view.packageId, view.trackingNumber, this.now())
    // Handled before (a redelivery): the offer was committed, or the package was let go.
    if (record.state !== 'open') return
    const sinceCreatedS = (this.now().getTime() - new Date(event.occurredAt).getTime()) / 1000
    await this.offerNext(view.packageId, view.trackingNumber, 'new', sinceCreatedS, requestIdOf(event), view)
  }

  private async declined(event: EventEnvelope): Promise<void> {
    const { assignmentId, driverId } = event.data as { assignmentId?: string; driverId?: string }
    if (!assignmentId || !driverId) return
    const record = await this.deps.store.byAssignment(assignmentId)
    // Not dispatch's offer (staff assigned it), or one it has already moved past.
    if (!record || record.state !== 'offered' || record.assignmentId !== assignmentId) return
    await this.deps.store.passOver(record.packageId, driverId, 'declined', this.now())
    this.deps.observer?.passedOver('declined')
    await this.offerNext(record.packageId, record.trackingNumber, 'declined', undefined, requestIdOf(event))
  }

  /** An offer past its time: still unanswered, it goes to the next driver in the same transaction as its cancellation. */
  private async timedOut(record: DispatchRecord): Promise<void> {
    const view = await this.deps.store.view(record.trackingNumber)
    if (!view || view.deleted) return this.release(record, 'deleted')
    if (isTerminal(view.status)) return this.release(record, 'final')
    const active = view.active
    if (!active) {
      // Declined (its event may still be on the way) or ended: the driver is passed over either way.
      if (record.driverId) await this.deps.store.passOver(record.packageId, record.driverId, 'declined', this.now())
      return this.offerNext(record.packageId, record.trackingNumber, 'declined')
    }
    if (active.id !== record.assignmentId) {
      // Dispatch's own newer offer (a replacement committed just before a crash): keep timing that one.
      if (active.assignedBy === DISPATCH_PRINCIPAL.id) return this.deps.store.offered(record.packageId, active, this.now())
      return this.release(record, 'taken')
    }
    if (active.state === 'accepted') return this.release(record, 'accepted')
    await this.deps.store.passOver(record.packageId, active.driverId, 'timeout', this.now())
    this.deps.observer?.passedOver('timeout')
    const next = this.pick(await this.deps.store.candidates(record.packageId), view.origin)
    // Nobody else: the offer stands (the driver may still accept) until someone comes on shift.
    if (!next) return
    try {
      // If-Match: the offer is replaced only if nothing happened to the package since it was read (an accept moves its version).
      const assignment = await this.deps.assigner.assign(DISPATCH_PRINCIPAL, record.trackingNumber, { driverId: next.driverId, replace: true }, view.version)
      await this.deps.store.offered(record.packageId, assignment, this.now())
      this.deps.observer?.offered('timeout')
      this.deps.log.info({ trackingNumber: record.trackingNumber, driverId: next.driverId, passedOver: active.driverId }, 'offer timed out: offered to the next driver')
    } catch (err) {
      // Answered meanwhile, or another change: the next sweep decides on a fresh read.
      if (err instanceof AppError && err.code === 'version_mismatch') return
      throw err
    } finally {
      this.unpick(next.driverId)
    }
  }

  /** pickDriver, with the offers in flight here counted; the caller unpicks once its offer is committed or failed. */
  private pick(candidates: Candidate[], origin: { lat: number; lng: number } | undefined): Candidate | undefined {
    const next = pickDriver(candidates.map((c) => ({ ...c, active: c.active + (this.picking.get(c.driverId) ?? 0) })), origin)
    if (next) this.picking.set(next.driverId, (this.picking.get(next.driverId) ?? 0) + 1)
    return next
  }

  private unpick(driverId: string): void {
    const n = (this.picking.get(driverId) ?? 1) - 1
    if (n > 0) this.picking.set(driverId, n)
    else this.picking.delete(driverId)
  }

  /**
   * Offers the package to the best candidate. A lost race (already_assigned) or a
   * driver who vanished is decided again on a fresh read; an offer dispatch already
   * made (a redelivery after a crash) is recorded, not repeated.
   */
  private async offerNext(packageId: string, tn: string, cause: 'new' | PassReason | 'retry', sinceCreatedS?: number, requestId?: string, fresh?: PackageView | null): Promise<void> {
    const record = { packageId, trackingNumber: tn }
    for (let attempt = 0; attempt < 3; attempt++) {
      // `fresh`: the caller's read, made just now; a retry reads again.
      const view = attempt === 0 && fresh !== undefined ? fresh : await this.deps.store.view(tn)
      if (!view || view.deleted || view.packageId !== packageId) return this.release(record, 'deleted')
      if (!isOwnFleet(view)) return this.release(record, 'not_own_fleet')
      // A waiting package that reached a final status is let go even with nobody on shift.
      if (isTerminal(view.status)) return this.release(record, 'final')
      if (view.active) {
        if (view.active.assignedBy === DISPATCH_PRINCIPAL.id) {
          await this.deps.store.offered(packageId, view.active, this.now())
          return
        }
        return this.release(record, 'taken')
      }
      const next = this.pick(await this.deps.store.candidates(packageId), view.origin)
      if (!next) {
        await this.deps.store.waiting(packageId, this.now())
        this.deps.observer?.waiting()
        this.deps.log.info({ trackingNumber: tn, requestId }, 'no driver on shift to offer the package to; waiting')
        return
      }
      try {
        const assignment = await this.deps.assigner.assign(DISPATCH_PRINCIPAL, tn, { driverId: next.driverId })
        await this.deps.store.offered(packageId, assignment, this.now())
        this.deps.observer?.offered(cause, sinceCreatedS)
        this.deps.log.info({ trackingNumber: tn, driverId: next.driverId, cause, requestId }, 'package offered to a driver')
        return
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        if (err.code === 'invalid_transition') return this.release(record, 'final')
        if (err.code === 'not_found') return this.release(record, 'deleted')
        // already_assigned (staff were quicker) or a driver deleted meanwhile: decide again.
        if (err.code !== 'already_assigned' && err.code !== 'validation_failed') throw err
      } finally {
        this.unpick(next.driverId)
      }
    }
    throw new Error(`package ${tn}: no offer after 3 attempts`)
  }

  private async release(record: Pick<DispatchRecord, 'packageId' | 'trackingNumber'>, reason: CloseReason): Promise<void> {
    await this.deps.store.closed(record.packageId, reason, this.now())
    this.deps.observer?.closed(reason)
    this.deps.log.info({ trackingNumber: record.trackingNumber, reason }, 'dispatch let the package go')
  }

  /** Runs `fn` after every earlier step for the same package in this process. */
  private serial(key: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(key) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const settled = run.catch(() => undefined)
    this.chains.set(key, settled)
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key)
    })
    return run
  }
}

/** The request that caused the event, when the envelope carries it (for log correlation). */
const requestIdOf = (event: EventEnvelope): string | undefined => (event as { requestId?: string }).requestId
