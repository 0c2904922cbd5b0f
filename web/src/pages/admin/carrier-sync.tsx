import type { ApiError } from '../../api/base-query.js'
import { useState } from 'preact/hooks'
import { useBulkRefreshMutation, useGetCarrierJobsQuery, useGetCarrierLogQuery, useGetCarrierUsageQuery, type CarrierJob } from '../../api/carrier.js'
import { ErrorNote, Loading, When } from '../../components/bits.js'
import { BudgetBar, CarrierDays } from '../../components/carrier-charts.js'
import { CarrierRefresh } from '../../components/carrier-refresh.js'
import { useSession } from '../../hooks.js'
import { JOB_STATES, budgetView, bulkOutcomeText, logOutcome, logSource, needsAttention, queueRows, refreshErrorText, totalPending } from '../../lib/carrier-sync.js'
import { formatDuration, formatNumber } from '../../lib/format.js'

const POLL_MS = 5000
const RECENT = 15
const poll = { pollingInterval: POLL_MS, skipPollingIfUnfocused: true }

/** The carriers role at a glance: its queue, today's budget, the last week, and what needs a person. */
export default function CarrierSyncPage() {
  const isAdmin = useSession().user?.role === 'admin'
  const jobs = useGetCarrierJobsQuery(undefined, poll)
  const flagged = useGetCarrierJobsQuery({ state: 'attention' }, poll)
  const usage = useGetCarrierUsageQuery(7, poll)
  const log = useGetCarrierLogQuery({ limit: RECENT }, poll)

  if (jobs.isLoading || usage.isLoading || flagged.isLoading) return <Loading label="Loading carrier sync…" />
  const failed = (jobs.error ?? usage.error ?? flagged.error) as ApiError | undefined
  if (failed || !jobs.data || !usage.data || !flagged.data) return <ErrorNote>Carrier sync could not be loaded: {failed?.message ?? 'unknown error'}</ErrorNote>

  const rows = queueRows(jobs.data.counts)
  const budget = budgetView(usage.data.today)
  const attention = needsAttention(flagged.data.items)
  const { today } = usage.data
  return (
    <section aria-labelledby="carrier-title">
      <div class="page-head">
        <h1 id="carrier-title">Carrier sync</h1>
        <span class="muted">Refreshes every {POLL_MS / 1000} s</span>
      </div>
      {budget.note && (
        <p class={budget.state === 'spent' ? 'error' : 'notice'} role="status" data-testid="budget-note">
          {budget.note}
        </p>
      )}
      <div class="tiles">
        <Tile label="Pending jobs" value={formatNumber(totalPending(rows))} testid="pending" />
        <Tile label="Oldest pending" value={jobs.data.oldestPendingAgeS <= 0 ? 'none' : formatDuration(jobs.data.oldestPendingAgeS)} testid="oldest" />
        <Tile label="Calls today" value={formatNumber(today.calls)} sub={`of ${formatNumber(today.budget)} · ${formatNumber(today.remaining)} left`} testid="calls" />
        <Tile
          label="Success rate"
          value={today.successRate === null ? '—' : `${Math.round(today.successRate * 100)}%`}
          sub={today.p95Ms === null ? undefined : `p95 ${formatNumber(Math.round(today.p95Ms))} ms`}
          testid="success"
        />
      </div>
      <div class="two-col">
        <section class="card" aria-labelledby="queue-title">
          <h2 id="queue-title">Queue by type</h2>
          {rows.length === 0 ? (
            <p class="muted">No jobs yet.</p>
          ) : (
            <table class="table compact" aria-labelledby="queue-title">
              <thead>
                <tr>
                  <th scope="col">Type</th>
                  {JOB_STATES.map((s) => (
                    <th scope="col" key={s}>
                      {s[0]!.toUpperCase() + s.slice(1)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.type} data-type={r.type}>
                    <th scope="row">{r.type}</th>
                    {JOB_STATES.map((s) => (
                      <td key={s} data-state={s} data-label={s}>
                        {formatNumber(r[s])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section class="card" aria-labelledby="budget-title">
          <h2 id="budget-title">Today's budget</h2>
          <BudgetBar view={budget} />
          <p class="muted">The shaded end is the reserve: only manual refreshes may use it.</p>
        </section>
        <section class="card" aria-labelledby="days-title">
          <h2 id="days-title">Last 7 days</h2>
          <CarrierDays days={usage.data.byDay} />
        </section>
        <section class="card" aria-labelledby="attention-title">
          <h2 id="attention-title">Needs attention</h2>
          {attention.length === 0 ? (
            <p class="muted">Every tracking is being checked normally.</p>
          ) : (
            <>
              {isAdmin && attention.length > 1 && <RefreshAll trackingNumbers={attention.map((j) => j.trackingNumber)} />}
              <AttentionTable items={attention} canRefresh={isAdmin} />
            </>
          )}
        </section>
      </div>
      <section class="card" aria-labelledby="log-title">
        <h2 id="log-title">Recent checks and pushes</h2>
        {!log.data || log.data.items.length === 0 ? (
          <p class="muted">{log.error ? 'The update log could not be loaded.' : 'Nothing asked yet.'}</p>
        ) : (
          <table class="table compact" aria-labelledby="log-title">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Tracking number</th>
                <th scope="col">Source</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {log.data.items.map((e) => (
                <tr key={e.id} data-log={e.id} class={e.success ? undefined : 'failed'}>
                  <td data-label="When">
                    <When iso={e.startedAt} />
                  </td>
                  <td data-label="Tracking number">
                    <a href={`/packages/${encodeURIComponent(e.trackingNumber)}`}>{e.trackingNumber}</a> <span class="muted">{e.carrier}</span>
                  </td>
                  <td data-label="Source">{logSource(e)}</td>
                  <td data-label="Outcome">{logOutcome(e)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </section>
  )
}

/** One bulk refresh for every tracking needing attention (admins; the reserve pays for it). */
function RefreshAll({ trackingNumbers }: { trackingNumbers: string[] }) {
  const [refresh, { isLoading }] = useBulkRefreshMutation()
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | undefined>()
  const run = async () => {
    const res = await refresh({ trackingNumbers })
    if ('data' in res && res.data) setOutcome({ ok: true, text: bulkOutcomeText(res.data) })
    else setOutcome({ ok: false, text: refreshErrorText(res.error as ApiError) })
  }
  return (
    <p class="carrier-refresh">
      <button type="button" class="button secondary small" onClick={run} disabled={isLoading}>
        {isLoading ? 'Asking…' : `Refresh all ${trackingNumbers.length}`}
      </button>
      {outcome && (
        <span class={`carrier-note ${outcome.ok ? 'muted' : 'error'}`} role="status" data-testid="bulk-outcome">
          {outcome.text}
        </span>
      )}
    </p>
  )
}

function AttentionTable({ items, canRefresh }: { items: CarrierJob[]; canRefresh: boolean }) {
  return (
    <table class="table compact" aria-labelledby="attention-title">
      <thead>
        <tr>
          <th scope="col">Tracking number</th>
          <th scope="col">Failures</th>
          <th scope="col">Last checked</th>
          {canRefresh && <th scope="col">Action</th>}
        </tr>
      </thead>
      <tbody>
        {items.map((j) => (
          <tr key={j.trackingNumber} data-tn={j.trackingNumber}>
            <td data-label="Tracking number">
              <a href={`/packages/${encodeURIComponent(j.trackingNumber)}`}>{j.trackingNumber}</a> {j.carrier && <span class="muted">{j.carrier}</span>}
              {j.error && <div class="muted">{j.error}</div>}
            </td>
            <td data-label="Failures">{j.consecutiveFailures}</td>
            <td data-label="Last checked">
              <When iso={j.lastCheckedAt} />
            </td>
            {canRefresh && (
              <td data-label="Action">
                <CarrierRefresh tn={j.trackingNumber} inList />
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function Tile({ label, value, sub, testid }: { label: string; value: string; sub?: string; testid: string }) {
  return (
    <div class="tile card" data-testid={testid}>
      <span class="tile-label">{label}</span>
      <span class="tile-value">{value}</span>
      {sub && <span class="tile-sub">{sub}</span>}
    </div>
  )
}
