import { useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { useGetPackageEventsQuery, useGetPackageLocationsQuery, useGetPackageQuery } from '../api/packages.js'
import { ErrorNote, Loading, StatusBadge, When } from '../components/bits.js'
import { CarrierCheck } from '../components/carrier-check.js'
import { PackageStaffPanel } from '../components/package-staff.js'
import { RouteMap } from '../components/route-map.js'
import { StatusDialog } from '../components/status-dialog.js'
import { Timeline } from '../components/timeline.js'
import { useSession } from '../hooks.js'
import { formatDay } from '../lib/format.js'
import { PublicTrack } from './public-track.js'

const MAY_UPDATE = new Set(['admin', 'operator', 'driver'])
const DELIVERY_LABELS: Record<string, string> = { standard: 'Standard', express: 'Express', same_day: 'Same day' }
const PAYMENT_LABELS: Record<string, string> = { pending: 'Awaiting payment', paid: 'Paid', refunded: 'Refunded' }

/** One package: facts, live route and status timeline. Updates arrive on the package channel. */
export function PackageDetail({ tn }: { tn: string }) {
  const role = useSession().user?.role
  const pkg = useGetPackageQuery(tn)
  // The event log, the route and the package channel are for who sees the package in full.
  const full = pkg.data !== undefined && pkg.data.view !== 'public'
  const events = useGetPackageEventsQuery(tn, { skip: !full })
  const locations = useGetPackageLocationsQuery(tn, { skip: !full })
  const [updating, setUpdating] = useState(false)

  if (pkg.isLoading) return <Loading label="Loading the package…" />
  if (pkg.error || !pkg.data) {
    const e = pkg.error as ApiError | undefined
    return (
      <section class="card">
        <h1>Package {tn}</h1>
        {e?.status === 404 ? (
          <p>There is no package with this number on your account. It may have been removed.</p>
        ) : (
          <ErrorNote>The package could not be loaded: {e?.message ?? 'unknown error'}</ErrorNote>
        )}
        <p>
          <a href="/">Back to my packages</a>
        </p>
      </section>
    )
  }
  const p = pkg.data
  // Someone else's package, followed by its number (an old link, or access just withdrawn): the public page.
  if (p.view === 'public') return <PublicTrack tn={tn} signedIn />
  return (
    <section aria-labelledby="pkg-title" class="detail">
      <p class="crumbs">
        <a href={role === 'admin' || role === 'operator' ? '/admin/packages' : '/'}>← {role === 'admin' || role === 'operator' ? 'All packages' : 'My packages'}</a>
      </p>
      <div class="page-head">
        <div>
          <h1 id="pkg-title">{p.description ?? `Package ${p.trackingNumber}`}</h1>
          <code class="tn">{p.trackingNumber}</code>
        </div>
        <div class="head-status">
          <StatusBadge status={p.status} />
          {role && MAY_UPDATE.has(role) && (
            <button type="button" class="button" onClick={() => setUpdating(true)}>
              Update status
            </button>
          )}
        </div>
      </div>
      <dl class="facts card">
        <div>
          <dt>Carrier</dt>
          <dd>{p.carrier}</dd>
        </div>
        {p.external && p.sync && <CarrierCheck tn={p.trackingNumber} sync={p.sync} canRefresh={role === 'admin'} />}
        <div>
          <dt>Estimated delivery</dt>
          <dd>{p.estimatedDelivery ? formatDay(p.estimatedDelivery) : 'Not known yet'}</dd>
        </div>
        <div>
          <dt>Last update</dt>
          <dd>
            <When iso={p.updatedAt} />
          </dd>
        </div>
        <div>
          <dt>Recipient</dt>
          <dd>{p.recipient.name}</dd>
        </div>
        <div>
          <dt>Sender</dt>
          <dd>{p.sender.name}</dd>
        </div>
        <div>
          <dt>Delivery</dt>
          <dd data-delivery-option={p.deliveryOption}>{DELIVERY_LABELS[p.deliveryOption] ?? p.deliveryOption}</dd>
        </div>
        {p.paymentStatus !== 'not_required' && (
          <div>
            <dt>Payment</dt>
            <dd data-payment-status={p.paymentStatus}>{PAYMENT_LABELS[p.paymentStatus] ?? p.paymentStatus}</dd>
          </div>
        )}
        {p.items && p.items.length > 0 && (
          <div>
            <dt>Items</dt>
            <dd>{p.items.map((i) => `${i.quantity} × ${i.description}`).join(', ')}</dd>
          </div>
        )}
        {p.weightGrams !== undefined && (
          <div>
            <dt>Weight</dt>
            <dd>{(p.weightGrams / 1000).toFixed(2)} kg</dd>
          </div>
        )}
      </dl>
      <div class="detail-grid">
        <section class="card" aria-labelledby="route-title">
          <h2 id="route-title">Route</h2>
          {locations.error ? (
            <ErrorNote>The route could not be loaded: {(locations.error as ApiError).message}</ErrorNote>
          ) : locations.data ? (
            <RouteMap points={locations.data.items} origin={p.origin} destination={p.destination} lastLocation={p.lastLocation} />
          ) : (
            <Loading label="Loading the route…" />
          )}
        </section>
        <section class="card" aria-labelledby="history-title">
          <h2 id="history-title">History</h2>
          {events.error ? (
            <ErrorNote>The history could not be loaded: {(events.error as ApiError).message}</ErrorNote>
          ) : events.data ? (
            <Timeline events={events.data.items} />
          ) : (
            <Loading label="Loading the history…" />
          )}
        </section>
      </div>
      <PackageStaffPanel pkg={p} events={events.data?.items} />
      {updating && <StatusDialog pkg={p} onClose={() => setUpdating(false)} />}
    </section>
  )
}
