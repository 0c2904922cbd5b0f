import { useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { useRefreshTrackingMutation } from '../api/carrier.js'
import { refreshErrorText } from '../lib/carrier-sync.js'
import { formatDateTime } from '../lib/format.js'

/** Asks the worker to check one tracking with its carrier now; says when, or why not. */
/** `inList`: one of many buttons, so its name carries the number. */
export function CarrierRefresh({ tn, label = 'Refresh', inList = false, onScheduled }: { tn: string; label?: string; inList?: boolean; onScheduled?: () => void }) {
  const [refresh, { isLoading }] = useRefreshTrackingMutation()
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | undefined>()
  const run = async () => {
    const res = await refresh(tn)
    if ('data' in res && res.data) {
      setOutcome({ ok: true, text: `Scheduled for ${formatDateTime(res.data.scheduledFor)}` })
      onScheduled?.()
    } else setOutcome({ ok: false, text: refreshErrorText(res.error as ApiError) })
  }
  return (
    <span class="carrier-refresh">
      <button type="button" class="button secondary small" onClick={run} disabled={isLoading} aria-label={inList ? `${label} ${tn}` : undefined}>
        {isLoading ? 'Asking…' : label}
      </button>
      {outcome && (
        <span class={`carrier-note ${outcome.ok ? 'muted' : 'error'}`} role="status" data-testid="refresh-outcome">
          {outcome.text}
        </span>
      )}
    </span>
  )
}
