import { useEffect, useRef, useState } from 'preact/hooks'
import { api } from '../api/api.js'
import type { ApiError } from '../api/base-query.js'
import { useGetAssignmentsQuery, useGetDriversQuery, useGetProofsQuery } from '../api/staff.js'
import type { Package, PackageEvent } from '../api/types.js'
import { useAppDispatch, useSession } from '../hooks.js'
import { AssignDriverDialog } from './assign-driver.js'
import { AssignmentHistory } from './assignment-history.js'
import { ErrorNote, Loading } from './bits.js'
import { ProofGallery } from './proof-gallery.js'

const STAFF = new Set(['admin', 'operator'])
// Presigned proof links last 15 minutes: fetch fresh ones well before.
const PROOF_REFRESH_MS = 10 * 60_000

const count = (events: PackageEvent[] | undefined, pred: (type: string) => boolean) => events?.filter((e) => pred(e.type)).length ?? 0

/**
 * Refetches what a live event made stale: the assignment history (and the drivers'
 * loads) on assignment events, the proofs on a new proof. The event log itself is
 * kept current from the package channel, so its counts tell.
 */
function useFollow(tn: string, events: PackageEvent[] | undefined): number {
  const dispatch = useAppDispatch()
  const assignments = count(events, (t) => t === 'package.assigned' || t.startsWith('package.assignment_') || t === 'package.status_changed')
  const proofs = count(events, (t) => t === 'package.proof_added')
  const seen = useRef<{ assignments: number; proofs: number } | undefined>(undefined)
  useEffect(() => {
    const before = seen.current
    if (!events) return
    seen.current = { assignments, proofs }
    // The first load of the log is no news: the lists were fetched with it.
    if (!before) return
    const stale: Parameters<typeof api.util.invalidateTags>[0] = []
    if (assignments > before.assignments) stale.push({ type: 'Assignment', id: tn }, { type: 'Driver', id: 'LIST' })
    if (proofs > before.proofs) stale.push({ type: 'Proof', id: tn })
    if (stale.length > 0) dispatch(api.util.invalidateTags(stale))
  }, [events !== undefined, assignments, proofs])
  return proofs
}

/** The package's driver, its assignment history and its proofs of delivery, for the detail page. */
export function PackageStaffPanel({ pkg, events }: { pkg: Package; events: PackageEvent[] | undefined }) {
  const user = useSession().user
  const staff = user ? STAFF.has(user.role) : false
  const drivers = useGetDriversQuery(undefined, { skip: !staff })
  const assignments = useGetAssignmentsQuery(pkg.trackingNumber, { skip: !staff })
  const proofCount = useFollow(pkg.trackingNumber, events)
  // Only a package whose log has a proof has any: no request otherwise (nor a 503 where no storage is configured).
  const proofs = useGetProofsQuery(pkg.trackingNumber, { skip: proofCount === 0, pollingInterval: PROOF_REFRESH_MS })
  const [assigning, setAssigning] = useState(false)

  const names = new Map(drivers.data?.items.map((d) => [d.id, d.name]))
  const driverName = (id: string) => names.get(id) ?? 'a former driver'
  const uploaderName = (id: string | null) => (id === null ? 'a deleted account' : id === user?.id ? 'you' : (names.get(id) ?? 'staff'))

  return (
    <div class="detail-grid">
      {staff && (
        <section class="card" aria-labelledby="driver-title">
          <div class="card-head">
            <h2 id="driver-title">Driver</h2>
            <button type="button" class="button small" onClick={() => setAssigning(true)}>
              Assign driver
            </button>
          </div>
          {assignments.error ? (
            <ErrorNote>The assignments could not be loaded: {(assignments.error as ApiError).message}</ErrorNote>
          ) : assignments.data ? (
            <AssignmentHistory items={assignments.data.items} driverName={driverName} />
          ) : (
            <Loading label="Loading the assignments…" />
          )}
        </section>
      )}
      <section class="card" aria-labelledby="proofs-title">
        <h2 id="proofs-title">Proof of delivery</h2>
        {proofCount === 0 ? (
          <p class="muted">No proof of delivery yet.</p>
        ) : proofs.error ? (
          (proofs.error as ApiError).status === 503 ? (
            <p class="muted">Proofs are not available: no object storage is configured.</p>
          ) : (
            <ErrorNote>The proofs could not be loaded: {(proofs.error as ApiError).message}</ErrorNote>
          )
        ) : proofs.data ? (
          <ProofGallery items={proofs.data.items} uploaderName={uploaderName} />
        ) : (
          <Loading label="Loading the proofs…" />
        )}
      </section>
      {assigning && <AssignDriverDialog pkg={pkg} driverName={driverName} onClose={() => setAssigning(false)} />}
    </div>
  )
}
