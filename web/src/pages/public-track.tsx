import type { ApiError } from '../api/base-query.js'
import { useGetPublicTrackingQuery } from '../api/packages.js'
import { ErrorNote, Loading, StatusBadge, When } from '../components/bits.js'
import { checkedPhrase } from '../lib/carrier-sync.js'
import { formatDateTime, formatDay } from '../lib/format.js'
import { STATUS_LABELS } from '../api/statuses.js'

/** The guest view of /track/<number>: status facts only, live on the track channel. */
export function PublicTrack({ tn, signedIn = false }: { tn: string; signedIn?: boolean }) {
  const { data, error, isLoading, refetch } = useGetPublicTrackingQuery(tn)
  if (isLoading) return <Loading label="Looking up the package…" />
  if (error || !data) {
    const e = error as ApiError | undefined
    return (
      <section class="card">
        <h1>Tracking {tn}</h1>
        {e?.status === 404 || e?.status === 400 ? (
          <p>We could not find a package with this tracking number. Check the number and try again.</p>
        ) : e?.status === 429 ? (
          <ErrorNote>Too many lookups from your network. Wait a minute and try again.</ErrorNote>
        ) : (
          <>
            <ErrorNote>The package could not be loaded: {e?.message ?? 'unknown error'}</ErrorNote>
            <button type="button" class="button secondary" onClick={() => refetch()}>
              Try again
            </button>
          </>
        )}
        <p>
          <a href="/">Track another package</a>
        </p>
      </section>
    )
  }
  const history = [...data.events].reverse()
  return (
    <section class="public" aria-labelledby="public-title">
      <div class="card public-head">
        <p class="muted">Tracking number</p>
        <h1 id="public-title">
          <code class="tn big">{data.trackingNumber}</code>
        </h1>
        <p class="public-status">
          <StatusBadge status={data.status} />
        </p>
        <dl class="facts">
          <div>
            <dt>Carrier</dt>
            <dd>{data.carrier}</dd>
          </div>
          <div>
            <dt>Estimated delivery</dt>
            <dd>{data.estimatedDelivery ? formatDay(data.estimatedDelivery) : 'Not known yet'}</dd>
          </div>
          <div>
            <dt>Last update</dt>
            <dd>
              <When iso={data.lastUpdatedAt} />
            </dd>
          </div>
          {data.lastCheckedAt !== undefined && (
            <div>
              <dt>Carrier check</dt>
              <dd>{checkedPhrase(data.lastCheckedAt)}</dd>
            </div>
          )}
        </dl>
      </div>
      <section class="card" aria-labelledby="public-history">
        <h2 id="public-history">History</h2>
        <ol class="timeline" aria-label="Status history">
          {history.map((e, i) => (
            <li key={`${e.status}-${e.occurredAt}-${i}`} class="timeline-item">
              <span class="timeline-dot" aria-hidden="true" />
              <div class="timeline-body">
                <div class="timeline-title">{STATUS_LABELS[e.status]}</div>
                {(e.note || e.city) && <div class="timeline-detail">{[e.note, e.city].filter(Boolean).join(' · ')}</div>}
                <time class="timeline-time" dateTime={e.occurredAt}>
                  {formatDateTime(e.occurredAt)}
                </time>
              </div>
            </li>
          ))}
        </ol>
      </section>
      {signedIn ? (
        <p class="muted">
          You follow this package by its tracking number: its sender, recipient and route are shown to its owner only. <a href="/">Back to my packages</a>
        </p>
      ) : (
        <p class="muted">
          <a href="/signin">Sign in</a> to add this package to your list and see its route.
        </p>
      )}
    </section>
  )
}
