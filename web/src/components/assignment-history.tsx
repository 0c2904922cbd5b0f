import type { Assignment } from '../api/staff.js'
import { formatDateTime } from '../lib/format.js'

const STATE_TONES: Record<Assignment['state'], string> = { offered: 'progress', accepted: 'good', declined: 'warn', completed: 'good', cancelled: 'neutral' }

/** The state's own time: when it was accepted, declined or finished. */
function stateTime(a: Assignment): string | undefined {
  if (a.state === 'accepted') return a.acceptedAt
  if (a.state === 'declined') return a.declinedAt
  if (a.state === 'completed' || a.state === 'cancelled') return a.completedAt
  return undefined
}

/** Every offer of the package to a driver, newest first, with what became of it. */
export function AssignmentHistory({ items, driverName }: { items: Assignment[]; driverName: (id: string) => string }) {
  if (items.length === 0) return <p class="muted">Not offered to a driver yet.</p>
  return (
    <table class="table compact" aria-label="Assignment history">
      <thead>
        <tr>
          <th scope="col">Driver</th>
          <th scope="col">State</th>
          <th scope="col">Offered</th>
          <th scope="col">Since</th>
        </tr>
      </thead>
      <tbody>
        {[...items].reverse().map((a) => (
          <tr key={a.id} data-assignment={a.state}>
            <td>{driverName(a.driverId)}</td>
            <td>
              <span class={`badge tone-${STATE_TONES[a.state]}`} data-state={a.state}>
                {a.state}
              </span>
            </td>
            <td>
              <time dateTime={a.assignedAt}>{formatDateTime(a.assignedAt)}</time>
            </td>
            <td>{stateTime(a) ? <time dateTime={stateTime(a)}>{formatDateTime(stateTime(a))}</time> : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
