import { useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { useAddTrackingMutation } from '../api/packages.js'
import type { TrackingEntry } from '../api/types.js'
import { Modal } from '../components/modal.js'

function messageOf(err: unknown): string {
  const e = err as ApiError
  if (e.status === 404) return 'We could not find a package with that tracking number. Check it and try again.'
  if (e.status === 400) return 'A tracking number has 8 to 30 letters (A–Z) and digits, with no spaces or symbols.'
  return e.message || 'The package could not be added. Try again.'
}

/** "Track Package": adds a number to the customer's list (POST /me/trackings); errors stay in the dialog. */
export function TrackModal({ onClose, onAdded }: { onClose: () => void; onAdded: (entry: TrackingEntry) => void }) {
  const [add, { isLoading }] = useAddTrackingMutation()
  const [error, setError] = useState<string>()

  const submit = async (ev: SubmitEvent) => {
    ev.preventDefault()
    const form = new FormData(ev.currentTarget as HTMLFormElement)
    const trackingNumber = String(form.get('trackingNumber') ?? '').trim()
    const label = String(form.get('label') ?? '').trim()
    setError(undefined)
    try {
      const entry = await add(label ? { trackingNumber, label } : { trackingNumber }).unwrap()
      onAdded(entry)
      onClose()
    } catch (err) {
      setError(messageOf(err))
    }
  }

  return (
    <Modal title="Track a package" onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <label class="field">
          <span>Tracking number</span>
          <input
            name="trackingNumber"
            required
            maxLength={64}
            autoComplete="off"
            spellcheck={false}
            data-autofocus
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'track-error' : 'track-hint'}
            onInput={() => error && setError(undefined)}
          />
          <small id="track-hint" class="hint">You find it in the shipping confirmation, e.g. DTABCDEFGHIJK.</small>
        </label>
        <label class="field">
          <span>
            Label <small class="muted">(optional)</small>
          </span>
          <input name="label" maxLength={200} placeholder="e.g. New headphones" />
        </label>
        {error && (
          <p id="track-error" class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="button" class="button secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button" disabled={isLoading}>
            {isLoading ? 'Adding…' : 'Track Package'}
          </button>
        </div>
      </form>
    </Modal>
  )
}
