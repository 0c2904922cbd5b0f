import { useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { useGetTrackingsQuery, useRemoveTrackingMutation } from '../api/packages.js'
import type { TrackingEntry } from '../api/types.js'
import { Empty, ErrorNote, Loading, StatusBadge, When } from '../components/bits.js'
import { formatDay } from '../lib/format.js'
import { TrackModal } from './track-modal.js'

/** The customer's order history: every tracked package with its live status. */
export function MyPackages() {
  const { data, error, isLoading, refetch } = useGetTrackingsQuery()
  const [remove] = useRemoveTrackingMutation()
  const [adding, setAdding] = useState(false)
  const [announce, setAnnounce] = useState('')

  const onRemove = async (entry: TrackingEntry) => {
    const name = entry.label ?? entry.trackingNumber
    try {
      await remove(entry.trackingNumber).unwrap()
      setAnnounce(`Removed ${name} from your list.`)
    } catch (err) {
      setAnnounce(`Could not remove ${name}: ${(err as ApiError).message}`)
    }
  }

  return (
    <section aria-labelledby="my-title">
      <div class="page-head">
        <h1 id="my-title">My packages</h1>
        <div class="actions">
          <a class="button secondary" href="/orders/new">
            Place an order
          </a>
          <button type="button" class="button" onClick={() => setAdding(true)}>
            Track Package
          </button>
        </div>
      </div>
      <p class="visually-hidden" role="status" aria-live="polite">
        {announce}
      </p>
      {isLoading && <Loading label="Loading your packages…" />}
      {error && (
        <div class="error-block">
          <ErrorNote>Your packages could not be loaded: {(error as ApiError).message}</ErrorNote>
          <button type="button" class="button secondary" onClick={() => refetch()}>
            Try again
          </button>
        </div>
      )}
      {data && data.items.length === 0 && (
        <Empty title="No packages yet">
          <p>Press “Track Package” and enter a tracking number: the package shows up here and updates live.</p>
        </Empty>
      )}
      {data && data.items.length > 0 && (
        <ul class="package-list" aria-label="Tracked packages">
          {data.items.map((entry) => (
            <PackageCard key={entry.trackingNumber} entry={entry} onRemove={() => onRemove(entry)} />
          ))}
        </ul>
      )}
      {adding && <TrackModal onClose={() => setAdding(false)} onAdded={(e) => setAnnounce(`Added ${e.label ?? e.trackingNumber} to your list.`)} />}
    </section>
  )
}

function PackageCard({ entry, onRemove }: { entry: TrackingEntry; onRemove: () => void }) {
  const pkg = entry.package
  // Someone else's parcel shows its public view: its details page is the public one.
  const isPublic = pkg.view === 'public'
  const href = `/${isPublic ? 'track' : 'packages'}/${encodeURIComponent(entry.trackingNumber)}`
  return (
    <li class="package-card card" data-tn={entry.trackingNumber} data-view={pkg.view}>
      <div class="package-main">
        <a class="package-title" href={href}>
          {entry.label ?? (isPublic ? undefined : pkg.description) ?? entry.trackingNumber}
        </a>
        <code class="tn">{entry.trackingNumber}</code>
      </div>
      <div class="package-status">
        <StatusBadge status={pkg.status} />
      </div>
      <dl class="package-facts">
        <div>
          <dt>Last update</dt>
          <dd>
            <When iso={isPublic ? pkg.lastUpdatedAt : pkg.updatedAt} />
          </dd>
        </div>
        <div>
          <dt>Estimated delivery</dt>
          <dd>{pkg.estimatedDelivery ? formatDay(pkg.estimatedDelivery) : 'Not known yet'}</dd>
        </div>
      </dl>
      <div class="package-actions">
        <a class="button secondary small" href={href} aria-label={`Details of ${entry.trackingNumber}`}>
          Details
        </a>
        <button type="button" class="button ghost small" onClick={onRemove} aria-label={`Remove ${entry.trackingNumber} from my list`}>
          Remove
        </button>
      </div>
    </li>
  )
}
