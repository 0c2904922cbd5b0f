import { useEffect, useState } from 'preact/hooks'
import { useGetPackageQuery } from '../api/packages.js'
import type { CarrierSyncState } from '../api/types.js'
import { checkedPhrase } from '../lib/carrier-sync.js'
import { formatDateTime } from '../lib/format.js'
import { useMinuteTick } from './bits.js'
import { CarrierRefresh } from './carrier-refresh.js'

// A check with an unchanged answer writes no event, so the live channel cannot tell
// us about it: the package is read again now and then, often while a refresh is due.
const POLL_MS = 60_000
const AWAIT_MS = 3000

/** A carrier tracking's freshness on the package page, and for admins a way to ask again now. */
export function CarrierCheck({ tn, sync, canRefresh }: { tn: string; sync: CarrierSyncState; canRefresh: boolean }) {
  useMinuteTick()
  const [awaiting, setAwaiting] = useState<string | null | undefined>(undefined)
  useGetPackageQuery(tn, { pollingInterval: awaiting === undefined ? POLL_MS : AWAIT_MS, skipPollingIfUnfocused: true })
  useEffect(() => {
    if (awaiting !== undefined && sync.lastCheckedAt !== awaiting) setAwaiting(undefined)
  }, [sync.lastCheckedAt, awaiting])
  return (
    <div class="carrier-check">
      <dt>Carrier check</dt>
      <dd>
        <span data-testid="last-checked" title={sync.lastCheckedAt ? formatDateTime(sync.lastCheckedAt) : undefined}>
          {checkedPhrase(sync.lastCheckedAt)}
        </span>
        {sync.requiresAttention && <span class="badge tone-bad">needs attention</span>}
        {canRefresh && <CarrierRefresh tn={tn} label="Refresh from carrier" onScheduled={() => setAwaiting(sync.lastCheckedAt)} />}
      </dd>
    </div>
  )
}
