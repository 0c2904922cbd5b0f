import { useState } from 'preact/hooks'
import { useCreateDeviceMutation, useGetDevicesQuery, useRevokeDeviceMutation } from '../../api/admin.js'
import type { ApiError } from '../../api/base-query.js'
import type { CreatedDevice, Device } from '../../api/types.js'
import { Empty, ErrorNote, Loading, Secret, When } from '../../components/bits.js'
import { ConfirmDialog } from '../../components/modal.js'
import { useSession } from '../../hooks.js'

/** IoT trackers: register one (its API key is shown once), see when each last reported, revoke. */
export default function Devices() {
  const isAdmin = useSession().user?.role === 'admin'
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined])
  const cursor = cursors[cursors.length - 1]
  const { data, error, isLoading, refetch } = useGetDevicesQuery(cursor ? { cursor } : {})
  const [create, creation] = useCreateDeviceMutation()
  const [revoke, revocation] = useRevokeDeviceMutation()
  const [created, setCreated] = useState<CreatedDevice>()
  const [createError, setCreateError] = useState<string>()
  const [revoking, setRevoking] = useState<Device>()

  const submit = async (ev: SubmitEvent) => {
    ev.preventDefault()
    const formEl = ev.currentTarget as HTMLFormElement
    const form = new FormData(formEl)
    const name = String(form.get('name') ?? '').trim()
    const trackingNumber = String(form.get('trackingNumber') ?? '').trim()
    setCreateError(undefined)
    try {
      setCreated(await create(trackingNumber ? { name, trackingNumber } : { name }).unwrap())
      formEl.reset()
    } catch (err) {
      const e = err as ApiError
      setCreateError(e.status === 404 ? 'No package has that tracking number.' : e.message)
    }
  }

  return (
    <section aria-labelledby="dev-title">
      <div class="page-head">
        <h1 id="dev-title">Devices</h1>
      </div>
      {isAdmin && (
        <section class="card" aria-labelledby="new-device">
          <h2 id="new-device">Register a device</h2>
          <form class="inline-form wrap" onSubmit={submit}>
            <label class="field grow">
              <span>Name</span>
              <input name="name" required maxLength={200} placeholder="e.g. Van 12 tracker" />
            </label>
            <label class="field grow">
              <span>
                Package <small class="muted">(optional tracking number)</small>
              </span>
              <input name="trackingNumber" maxLength={64} autoComplete="off" />
            </label>
            <button type="submit" class="button" disabled={creation.isLoading}>
              {creation.isLoading ? 'Registering…' : 'Register device'}
            </button>
          </form>
          {createError && <ErrorNote>{createError}</ErrorNote>}
          {created && (
            <div class="callout" role="status">
              <p>
                <strong>{created.device.name}</strong> is registered. Copy its API key now: it is shown only once.
              </p>
              <Secret label="API key" value={created.apiKey} />
              <button type="button" class="button ghost small" onClick={() => setCreated(undefined)}>
                I have stored the key
              </button>
            </div>
          )}
        </section>
      )}
      {isLoading && <Loading label="Loading devices…" />}
      {error && (
        <div class="error-block">
          <ErrorNote>Devices could not be loaded: {(error as ApiError).message}</ErrorNote>
          <button type="button" class="button secondary" onClick={() => refetch()}>
            Try again
          </button>
        </div>
      )}
      {data && data.items.length === 0 && <Empty title="No devices yet">{isAdmin && <p>Register one above to get its API key.</p>}</Empty>}
      {data && data.items.length > 0 && (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Package</th>
                <th scope="col">Registered</th>
                <th scope="col">Last seen</th>
                {isAdmin && (
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {data.items.map((d) => (
                <tr key={d.id} data-device={d.name}>
                  <td data-label="Name">{d.name}</td>
                  <td data-label="Package">{d.trackingNumber ? <a href={`/packages/${encodeURIComponent(d.trackingNumber)}`}><code>{d.trackingNumber}</code></a> : <span class="muted">none</span>}</td>
                  <td data-label="Registered">
                    <When iso={d.createdAt} />
                  </td>
                  <td data-label="Last seen">{d.lastSeenAt ? <When iso={d.lastSeenAt} /> : <span class="muted">never</span>}</td>
                  {isAdmin && (
                    <td class="row-actions">
                      <button type="button" class="button ghost small danger-text" onClick={() => setRevoking(d)} aria-label={`Revoke ${d.name}`}>
                        Revoke
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" class="button secondary small" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span class="muted">Page {cursors.length}</span>
        <button type="button" class="button secondary small" disabled={!data?.nextCursor} onClick={() => data?.nextCursor && setCursors([...cursors, data.nextCursor])}>
          Older →
        </button>
      </nav>
      {revoking && (
        <ConfirmDialog
          title="Revoke device?"
          message={<>The API key of “{revoking.name}” stops working at once. The device cannot report positions any more.</>}
          confirmLabel="Revoke"
          danger
          busy={revocation.isLoading}
          error={revocation.error ? (revocation.error as ApiError).message : undefined}
          onConfirm={async () => {
            try {
              await revoke(revoking.id).unwrap()
              setRevoking(undefined)
            } catch {
              // shown in the dialog
            }
          }}
          onCancel={() => {
            revocation.reset()
            setRevoking(undefined)
          }}
        />
      )}
    </section>
  )
}
