import type { ComponentChildren } from 'preact'
import type { PackageEvent } from '../api/types.js'
import { byActor } from '../lib/actor.js'
import { formatDateTime } from '../lib/format.js'
import { StatusBadge } from './bits.js'

function describe(ev: PackageEvent): { title: ComponentChildren; detail?: string } {
  const d = ev.data
  switch (ev.type) {
    case 'package.created':
      return { title: 'Package registered' }
    case 'package.status_changed': {
      const loc = d.location as { city?: string } | undefined
      const parts = [typeof d.note === 'string' ? d.note : undefined, loc?.city, d.forced ? 'status set by an administrator' : undefined].filter(Boolean)
      return { title: <StatusBadge status={String(d.status)} />, detail: parts.join(' · ') || undefined }
    }
    case 'package.updated':
      return { title: 'Details updated', detail: Object.keys((d.changes as object | undefined) ?? {}).join(', ') || undefined }
    case 'package.assigned':
      return { title: d.driverId ? 'Offered to a driver' : 'Driver unassigned' }
    case 'package.assignment_accepted':
      return { title: 'Driver accepted' }
    case 'package.assignment_declined':
      return { title: 'Driver declined' }
    case 'package.assignment_cancelled':
      return { title: 'Assignment cancelled' }
    case 'package.deleted':
      return { title: 'Deleted' }
    case 'package.proof_added':
      return { title: d.kind === 'signature' ? 'Signature added' : 'Proof photo added' }
    default:
      return { title: ev.type }
  }
}

/** The package's event log, newest first. */
export function Timeline({ events }: { events: PackageEvent[] }) {
  if (events.length === 0) return <p class="muted">No events yet.</p>
  const newestFirst = [...events].reverse()
  return (
    <ol class="timeline" aria-label="Status history">
      {newestFirst.map((ev) => {
        const { title, detail } = describe(ev)
        const by = byActor(ev.actor)
        return (
          <li key={ev.id} class="timeline-item" data-type={ev.type}>
            <span class="timeline-dot" aria-hidden="true" />
            <div class="timeline-body">
              <div class="timeline-title">
                {ev.type === 'package.status_changed' && by ? <>moved to {title}</> : title}
                {by && <span class="timeline-actor"> {by}</span>}
              </div>
              {detail && <div class="timeline-detail">{detail}</div>}
              <time class="timeline-time" dateTime={ev.occurredAt}>
                {formatDateTime(ev.occurredAt)}
              </time>
            </div>
          </li>
        )
      })}
    </ol>
  )
}
