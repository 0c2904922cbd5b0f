import { useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { useGetDriverBoardQuery } from '../api/driver.js'
import { Empty, ErrorNote, Loading } from '../components/bits.js'
import { DeliveryCard, OfferCard } from './driver-cards.js'
import { LocationSharing } from './driver-location.js'

/** A driver's day on a phone: offers to answer, deliveries under way, position sharing. */
export default function DriverHome() {
  const { data, error, isLoading, refetch } = useGetDriverBoardQuery()
  const [announce, setAnnounce] = useState('')
  const accepted = data?.accepted ?? []

  return (
    <section class="driver" aria-labelledby="driver-title">
      <h1 id="driver-title">My deliveries</h1>
      <p class="visually-hidden" role="status" aria-live="polite">
        {announce}
      </p>
      {isLoading && <Loading label="Loading your deliveries…" />}
      {error && (
        <div class="error-block">
          <ErrorNote>Your deliveries could not be loaded: {(error as ApiError).message}</ErrorNote>
          <button type="button" class="button secondary" onClick={() => refetch()}>
            Try again
          </button>
        </div>
      )}
      {data && (
        <>
          <LocationSharing active={accepted.length > 0} />
          <section aria-labelledby="offers-title" class="driver-section">
            <h2 id="offers-title">
              Offers <span class="count">{data.offered.length}</span>
            </h2>
            {data.offered.length === 0 ? (
              <p class="muted">No offers right now. New ones appear here as dispatch sends them.</p>
            ) : (
              <ul class="driver-list" aria-label="Offers">
                {data.offered.map((a) => (
                  <OfferCard key={a.id} assignment={a} onAnswered={setAnnounce} />
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="deliveries-title" class="driver-section">
            <h2 id="deliveries-title">
              Deliveries <span class="count">{accepted.length}</span>
            </h2>
            {accepted.length === 0 ? (
              <Empty title="No deliveries under way">
                <p>Accept an offer to start a delivery.</p>
              </Empty>
            ) : (
              <ul class="driver-list" aria-label="Deliveries">
                {accepted.map((a) => (
                  <DeliveryCard key={a.id} assignment={a} onChanged={setAnnounce} />
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </section>
  )
}
