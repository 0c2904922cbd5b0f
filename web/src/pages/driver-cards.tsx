import { useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { useAnswerOfferMutation, type Assignment } from '../api/driver.js'
import { useChangeStatusMutation, useGetPackageLocationsQuery, useGetPackageQuery } from '../api/packages.js'
import { STATUS_LABELS, nextStatuses, type PackageStatus } from '../api/statuses.js'
import type { Package } from '../api/types.js'
import { ErrorNote, Loading, StatusBadge, When } from '../components/bits.js'
import { RouteMap } from '../components/route-map.js'
import { statusErrorText } from '../lib/driver-rules.js'
import { ProofPhoto } from './driver-proof.js'

const place = (p: Package['origin'], fallback: string) => p?.address ?? (p ? `${p.lat.toFixed(3)}, ${p.lng.toFixed(3)}` : fallback)

/** Where from, where to, for whom. */
function Trip({ pkg }: { pkg: Package }) {
  return (
    <dl class="driver-trip">
      <div>
        <dt>From</dt>
        <dd>{place(pkg.origin, pkg.sender.address ?? pkg.sender.name)}</dd>
      </div>
      <div>
        <dt>To</dt>
        <dd>
          {place(pkg.destination, pkg.recipient.address ?? 'address not given')} <span class="muted">({pkg.recipient.name})</span>
        </dd>
      </div>
    </dl>
  )
}

/** The package behind an assignment, in full (the driver of an active assignment sees it). */
function usePackage(tn: string) {
  const { data, error } = useGetPackageQuery(tn)
  return { pkg: data?.view === 'full' ? data : undefined, error: error as ApiError | undefined }
}

export function OfferCard({ assignment, onAnswered }: { assignment: Assignment; onAnswered: (text: string) => void }) {
  const tn = assignment.trackingNumber
  const { pkg, error } = usePackage(tn)
  const [answer, { isLoading }] = useAnswerOfferMutation()
  const [problem, setProblem] = useState<string>()
  const reply = async (kind: 'accept' | 'decline') => {
    setProblem(undefined)
    try {
      await answer({ trackingNumber: tn, answer: kind }).unwrap()
      onAnswered(kind === 'accept' ? `Accepted ${tn}: it is now under your deliveries.` : `Declined ${tn}.`)
    } catch (err) {
      setProblem((err as ApiError).status === 404 ? 'This offer is no longer yours (withdrawn or given to someone else).' : (err as ApiError).message)
    }
  }
  return (
    <li class="card driver-card" data-offer={tn}>
      <div class="driver-card-head">
        <div class="package-main">
          <strong class="package-title">{pkg?.description ?? tn}</strong>
          <code class="tn">{tn}</code>
        </div>
        <span class="muted small">
          Offered <When iso={assignment.assignedAt} />
        </span>
      </div>
      {pkg ? <Trip pkg={pkg} /> : error ? <ErrorNote>{error.message}</ErrorNote> : <Loading />}
      {problem && <ErrorNote>{problem}</ErrorNote>}
      <div class="driver-actions">
        <button type="button" class="button" disabled={isLoading} onClick={() => void reply('accept')} aria-label={`Accept ${tn}`}>
          Accept
        </button>
        <button type="button" class="button secondary" disabled={isLoading} onClick={() => void reply('decline')} aria-label={`Decline ${tn}`}>
          Decline
        </button>
      </div>
    </li>
  )
}

export function DeliveryCard({ assignment, onChanged }: { assignment: Assignment; onChanged: (text: string) => void }) {
  const tn = assignment.trackingNumber
  const { pkg, error } = usePackage(tn)
  const locations = useGetPackageLocationsQuery(tn)
  const [changeStatus, { isLoading }] = useChangeStatusMutation()
  const [problem, setProblem] = useState<string>()

  const move = async (status: PackageStatus) => {
    setProblem(undefined)
    try {
      await changeStatus({ trackingNumber: tn, status }).unwrap()
      onChanged(`${tn} is now ${STATUS_LABELS[status]}.`)
    } catch (err) {
      setProblem(statusErrorText(err as ApiError))
    }
  }

  return (
    <li class="card driver-card" data-delivery={tn}>
      <div class="driver-card-head">
        <div class="package-main">
          <strong class="package-title">{pkg?.description ?? tn}</strong>
          <code class="tn">{tn}</code>
        </div>
        {pkg && <StatusBadge status={pkg.status} />}
      </div>
      {error && <ErrorNote>{error.message}</ErrorNote>}
      {pkg && (
        <>
          <Trip pkg={pkg} />
          {locations.data ? (
            <RouteMap points={locations.data.items} origin={pkg.origin} destination={pkg.destination} lastLocation={pkg.lastLocation} />
          ) : locations.error ? (
            <ErrorNote>The route could not be loaded: {(locations.error as ApiError).message}</ErrorNote>
          ) : (
            <Loading label="Loading the route…" />
          )}
          <div class="driver-steps" role="group" aria-label={`Next step for ${tn}`}>
            {nextStatuses(pkg.status).map((s) => (
              <button key={s} type="button" class={`button ${s === 'delivered' ? '' : 'secondary'}`} data-next={s} disabled={isLoading} onClick={() => void move(s)}>
                {STATUS_LABELS[s]}
              </button>
            ))}
          </div>
          {problem && <ErrorNote>{problem}</ErrorNote>}
          <ProofPhoto tn={tn} onSaved={() => setProblem(undefined)} />
        </>
      )}
    </li>
  )
}
