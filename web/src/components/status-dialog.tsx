import { useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { useChangeStatusMutation } from '../api/packages.js'
import { STATUS_LABELS, nextStatuses, type PackageStatus } from '../api/statuses.js'
import type { Package } from '../api/types.js'
import { useSession } from '../hooks.js'
import { StatusBadge } from './bits.js'
import { Modal } from './modal.js'

/** Moves a package on, offering only the statuses the transition table allows (admins may override). */
export function StatusDialog({ pkg, onClose }: { pkg: Package; onClose: () => void }) {
  const isAdmin = useSession().user?.role === 'admin'
  const [force, setForce] = useState(false)
  const options = nextStatuses(pkg.status, force)
  const [picked, setStatus] = useState<PackageStatus | undefined>(options[0])
  // The package may move on while the dialog is open: keep the choice valid.
  const status = picked && options.includes(picked) ? picked : options[0]
  const [change, { isLoading }] = useChangeStatusMutation()
  const [error, setError] = useState<string>()

  const submit = async (ev: SubmitEvent) => {
    ev.preventDefault()
    if (!status) return
    const note = String(new FormData(ev.currentTarget as HTMLFormElement).get('note') ?? '').trim()
    setError(undefined)
    try {
      await change({ trackingNumber: pkg.trackingNumber, status, ...(note ? { note } : {}), ...(force ? { force: true } : {}) }).unwrap()
      onClose()
    } catch (err) {
      setError((err as ApiError).message)
    }
  }

  return (
    <Modal title={`Update ${pkg.trackingNumber}`} onClose={onClose}>
      <p>
        Now: <StatusBadge status={pkg.status} />
      </p>
      {options.length === 0 ? (
        <p class="notice">This package is {STATUS_LABELS[pkg.status].toLowerCase()}, a final status: it cannot change any more.</p>
      ) : null}
      <form class="form" onSubmit={submit}>
        {options.length > 0 && (
          <label class="field">
            <span>New status</span>
            <select name="status" value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value as PackageStatus)} data-autofocus>
              {options.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABELS[s]}
                  {s === pkg.status ? ' (checkpoint)' : ''}
                </option>
              ))}
            </select>
          </label>
        )}
        {isAdmin && (
          <label class="check">
            <input
              type="checkbox"
              checked={force}
              onChange={(e) => {
                const on = (e.currentTarget as HTMLInputElement).checked
                setForce(on)
                setStatus(nextStatuses(pkg.status, on)[0])
              }}
            />
            <span>Override the transition rules (recorded in the history)</span>
          </label>
        )}
        {options.length > 0 && (
          <label class="field">
            <span>
              Note <small class="muted">(optional, customers see it)</small>
            </span>
            <textarea name="note" rows={2} maxLength={1000} />
          </label>
        )}
        {error && <p class="error" role="alert">{error}</p>}
        <div class="actions">
          <button type="button" class="button secondary" onClick={onClose}>
            Cancel
          </button>
          {options.length > 0 && (
            <button type="submit" class="button" disabled={isLoading || !status}>
              {isLoading ? 'Saving…' : 'Update status'}
            </button>
          )}
        </div>
      </form>
    </Modal>
  )
}
