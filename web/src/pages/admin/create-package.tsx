import { useState } from 'preact/hooks'
import type { ApiError } from '../../api/base-query.js'
import { useCreatePackageMutation } from '../../api/packages.js'
import type { GeoPoint, NewPackage, Package } from '../../api/types.js'
import { Modal } from '../../components/modal.js'

const text = (f: FormData, k: string) => String(f.get(k) ?? '').trim()

function point(f: FormData, prefix: string): GeoPoint | undefined {
  const lat = text(f, `${prefix}Lat`)
  const lng = text(f, `${prefix}Lng`)
  if (!lat && !lng) return undefined
  const p: GeoPoint = { lat: Number(lat), lng: Number(lng) }
  const address = text(f, `${prefix}Address`)
  if (address) p.address = address
  return p
}

function toBody(f: FormData): NewPackage {
  const body: NewPackage = { sender: { name: text(f, 'sender') }, recipient: { name: text(f, 'recipient') } }
  const email = text(f, 'recipientEmail')
  if (email) body.recipient.email = email
  for (const k of ['trackingNumber', 'carrier', 'description'] as const) if (text(f, k)) body[k] = text(f, k)
  const weight = text(f, 'weightGrams')
  if (weight) body.weightGrams = Number(weight)
  const eta = text(f, 'estimatedDelivery')
  if (eta) body.estimatedDelivery = new Date(`${eta}T18:00:00`).toISOString()
  const origin = point(f, 'origin')
  const destination = point(f, 'destination')
  if (origin) body.origin = origin
  if (destination) body.destination = destination
  return body
}

/** A new package (admins): the number is generated unless one is given. */
export function CreatePackage({ onClose, onCreated }: { onClose: () => void; onCreated: (p: Package) => void }) {
  const [create, { isLoading }] = useCreatePackageMutation()
  const [error, setError] = useState<string>()
  const submit = async (ev: SubmitEvent) => {
    ev.preventDefault()
    setError(undefined)
    try {
      const pkg = await create(toBody(new FormData(ev.currentTarget as HTMLFormElement))).unwrap()
      onCreated(pkg)
      onClose()
    } catch (err) {
      const e = err as ApiError
      setError(e.status === 409 ? 'A package with this tracking number already exists.' : e.details?.length ? e.details.map((d) => `${d.path}: ${d.message}`).join('; ') : e.message)
    }
  }
  return (
    <Modal title="New package" onClose={onClose} size="wide">
      <form class="form grid-form" onSubmit={submit}>
        <label class="field">
          <span>Sender</span>
          <input name="sender" required maxLength={200} data-autofocus />
        </label>
        <label class="field">
          <span>Recipient</span>
          <input name="recipient" required maxLength={200} />
        </label>
        <label class="field">
          <span>Recipient email <small class="muted">(optional)</small></span>
          <input name="recipientEmail" type="email" />
        </label>
        <label class="field">
          <span>Description <small class="muted">(optional)</small></span>
          <input name="description" maxLength={1000} />
        </label>
        <label class="field">
          <span>Tracking number <small class="muted">(blank: generated)</small></span>
          <input name="trackingNumber" maxLength={30} pattern="[A-Za-z0-9]{8,30}" title="8 to 30 letters and digits" />
        </label>
        <label class="field">
          <span>Carrier <small class="muted">(optional)</small></span>
          <input name="carrier" maxLength={100} placeholder="delivertrack" />
        </label>
        <label class="field">
          <span>Weight in grams <small class="muted">(optional)</small></span>
          <input name="weightGrams" type="number" min={1} max={10000000} step={1} />
        </label>
        <label class="field">
          <span>Estimated delivery <small class="muted">(optional)</small></span>
          <input name="estimatedDelivery" type="date" />
        </label>
        <fieldset class="field-group">
          <legend>Origin <small class="muted">(optional)</small></legend>
          <input name="originLat" type="number" step="any" min={-90} max={90} placeholder="Latitude" aria-label="Origin latitude" />
          <input name="originLng" type="number" step="any" min={-180} max={180} placeholder="Longitude" aria-label="Origin longitude" />
          <input name="originAddress" maxLength={500} placeholder="Address" aria-label="Origin address" />
        </fieldset>
        <fieldset class="field-group">
          <legend>Destination <small class="muted">(optional)</small></legend>
          <input name="destinationLat" type="number" step="any" min={-90} max={90} placeholder="Latitude" aria-label="Destination latitude" />
          <input name="destinationLng" type="number" step="any" min={-180} max={180} placeholder="Longitude" aria-label="Destination longitude" />
          <input name="destinationAddress" maxLength={500} placeholder="Address" aria-label="Destination address" />
        </fieldset>
        {error && <p class="error span-all" role="alert">{error}</p>}
        <div class="actions span-all">
          <button type="button" class="button secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button" disabled={isLoading}>
            {isLoading ? 'Creating…' : 'Create package'}
          </button>
        </div>
      </form>
    </Modal>
  )
}
