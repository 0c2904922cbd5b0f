import { actorOf, type Principal } from '../auth/domain.js'
import { normalizeTrackingNumber } from '../package/domain.js'
import { attribute } from '../package/entity.js'
import { conflict, forbidden, invalid } from '../platform/errors.js'
import { decideOffer, notADriver, respond, type Assignment, type AssignmentState, type Response } from './domain.js'
import type { AssignmentRepository, DriverSummary, LocationFix, LocationIngest, PackageCommitted, ShiftState } from './ports.js'

export interface AssignmentServiceDeps {
  assignments: AssignmentRepository
  committed: PackageCommitted
  ingest: LocationIngest
  clock?: () => Date
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Drivers' assignments: offers, answers, history and the driver's own positions. */
export class AssignmentService {
  private readonly now: () => Date

  constructor(private readonly deps: AssignmentServiceDeps) {
    this.now = deps.clock ?? (() => new Date())
  }

  /** Offers the package to a driver; see AssignmentRepository.offer for who wins a race. */
  async assign(principal: Principal, rawTn: string, input: { driverId: string; replace?: boolean }, ifMatch?: number): Promise<Assignment> {
    const tn = normalizeTrackingNumber(rawTn, '/params/trackingNumber')
    if (!UUID.test(input.driverId) || !(await this.deps.assignments.isDriver(input.driverId))) throw notADriver()
    const replace = input.replace === true
    if (replace && ifMatch === undefined) throw invalid('/headers/if-match', 'is required with "replace": true (the package version you decided on)')
    const now = this.now()
    const actor = actorOf(principal)
    const { assignment, written } = await this.deps.assignments.offer(tn, replace, (pkg) => {
      const offer = decideOffer(pkg, { driverId: input.driverId, assignedBy: principal.id, replace, ifMatch }, now)
      return { assignment: offer.assignment, change: (replaced) => attribute(offer.change(replaced), actor) }
    }, now)
    this.deps.committed(written)
    return assignment
  }

  /** The offered driver accepts or declines; to anyone else the offer does not exist. */
  async respond(principal: Principal, rawTn: string, answer: Response): Promise<Assignment> {
    if (principal.role !== 'driver') throw forbidden('only the offered driver answers an offer')
    const tn = normalizeTrackingNumber(rawTn, '/params/trackingNumber')
    const now = this.now()
    const actor = actorOf(principal)
    const { assignment, written } = await this.deps.assignments.respond(tn, principal.id, (pkg, current) => {
      const decision = respond(pkg, current, answer, now)
      return { assignment: decision.assignment, change: attribute(decision.change, actor) }
    }, now)
    this.deps.committed(written)
    return assignment
  }

  history(rawTn: string): Promise<Assignment[]> {
    return this.deps.assignments.history(normalizeTrackingNumber(rawTn, '/params/trackingNumber'))
  }

  mine(principal: Principal, state?: AssignmentState): Promise<Assignment[]> {
    return this.deps.assignments.ofDriver(principal.id, state)
  }

  drivers(): Promise<DriverSummary[]> {
    return this.deps.assignments.drivers()
  }

  /** A driver goes on or off shift; only drivers have one. */
  shift(principal: Principal, onShift: boolean): Promise<ShiftState> {
    if (principal.role !== 'driver') throw forbidden('only drivers go on and off shift')
    return this.deps.assignments.setShift(principal.id, onShift, this.now())
  }

  /**
   * A driver's own fixes go to every package they have accepted, through the same
   * ingest as devices. Counts are per point of the batch: accepted when some package
   * stored it now, a duplicate otherwise.
   */
  async locations(principal: Principal, points: LocationFix[]): Promise<{ accepted: number; duplicates: number }> {
    const packages = await this.deps.assignments.accepted(principal.id)
    if (packages.length === 0) {
      throw conflict('you have no accepted assignment: accept an offer (POST /packages/:tn/assignment/accept) before posting locations')
    }
    const actor = actorOf(principal)
    const results = await Promise.all(packages.map((p) => this.deps.ingest(p, points, actor)))
    const accepted = Math.max(...results.map((r) => r.accepted))
    const newest = points.reduce((a, b) => (b.recordedAt > a.recordedAt ? b : a))
    await this.deps.assignments.seen(principal.id, newest, this.now())
    return { accepted, duplicates: points.length - accepted }
  }
}
