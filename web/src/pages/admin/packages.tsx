import { useEffect, useState } from 'preact/hooks'
import type { ApiError } from '../../api/base-query.js'
import { useDeletePackageMutation, useGetPackagesQuery } from '../../api/packages.js'
import { useGetDriversQuery } from '../../api/staff.js'
import { STATUSES, STATUS_LABELS, type PackageStatus } from '../../api/statuses.js'
import type { Package, PackageQuery } from '../../api/types.js'
import { AssignDriverDialog } from '../../components/assign-driver.js'
import { Empty, ErrorNote, Loading, StatusBadge, When } from '../../components/bits.js'
import { ConfirmDialog } from '../../components/modal.js'
import { StatusDialog } from '../../components/status-dialog.js'
import { useSession } from '../../hooks.js'
import { formatDay } from '../../lib/format.js'
import { CreatePackage } from './create-package.js'

/** All packages (admins, operators; drivers see their assigned ones): filter, search, page, act. */
export default function AdminPackages() {
  const role = useSession().user?.role
  const [status, setStatus] = useState<PackageStatus | ''>('')
  const [typed, setTyped] = useState('')
  const [q, setQ] = useState('')
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined])
  const [creating, setCreating] = useState(false)
  const [updating, setUpdating] = useState<Package>()
  const [deleting, setDeleting] = useState<Package>()
  const [assigning, setAssigning] = useState<Package>()
  // Staff see who drives each package and may offer it to a driver.
  const staff = role === 'admin' || role === 'operator'
  const drivers = useGetDriversQuery(undefined, { skip: !staff })
  const driverName = (id: string) => drivers.data?.items.find((d) => d.id === id)?.name ?? 'a former driver'
  const [notice, setNotice] = useState('')
  const [remove, removal] = useDeletePackageMutation()

  // Search as you type, once typing pauses.
  useEffect(() => {
    const t = setTimeout(() => {
      setQ(typed.trim())
      setCursors([undefined])
    }, 300)
    return () => clearTimeout(t)
  }, [typed])

  const cursor = cursors[cursors.length - 1]
  const query: PackageQuery = {}
  if (status) query.status = status
  if (q) query.q = q
  if (cursor) query.cursor = cursor
  const { data, error, isLoading, isFetching, refetch } = useGetPackagesQuery(query)
  const current = (p: Package | undefined) => (p ? (data?.items.find((x) => x.trackingNumber === p.trackingNumber) ?? p) : undefined)

  const confirmDelete = async () => {
    if (!deleting) return
    try {
      await remove(deleting.trackingNumber).unwrap()
      setNotice(`Deleted ${deleting.trackingNumber}.`)
      setDeleting(undefined)
    } catch {
      // shown in the dialog
    }
  }

  const updatingNow = current(updating)
  const assigningNow = current(assigning)
  return (
    <section aria-labelledby="pk-title">
      <div class="page-head">
        <h1 id="pk-title">Packages</h1>
        {role === 'admin' && (
          <button type="button" class="button" onClick={() => setCreating(true)}>
            New package
          </button>
        )}
      </div>
      <p role="status" aria-live="polite" class={notice ? 'notice' : 'visually-hidden'}>
        {notice}
      </p>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label class="field">
          <span>Status</span>
          <select
            value={status}
            onChange={(e) => {
              setStatus((e.currentTarget as HTMLSelectElement).value as PackageStatus | '')
              setCursors([undefined])
            }}
          >
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </label>
        <label class="field grow">
          <span>Search</span>
          <input type="search" value={typed} placeholder="Tracking number, name, description" onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)} />
        </label>
      </form>
      {isLoading && <Loading label="Loading packages…" />}
      {error && (
        <div class="error-block">
          <ErrorNote>Packages could not be loaded: {(error as ApiError).message}</ErrorNote>
          <button type="button" class="button secondary" onClick={() => refetch()}>
            Try again
          </button>
        </div>
      )}
      {data && data.items.length === 0 && <Empty title={status || q ? 'No package matches these filters' : 'No packages yet'} />}
      {data && data.items.length > 0 && (
        <div class="table-wrap" aria-busy={isFetching}>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Tracking number</th>
                <th scope="col">Status</th>
                <th scope="col">Recipient</th>
                <th scope="col">Carrier</th>
                {staff && <th scope="col">Driver</th>}
                <th scope="col">Updated</th>
                <th scope="col">ETA</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((p) => (
                <tr key={p.trackingNumber} data-tn={p.trackingNumber}>
                  <td data-label="Tracking number">
                    <a href={`/packages/${encodeURIComponent(p.trackingNumber)}`}>
                      <code>{p.trackingNumber}</code>
                    </a>
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={p.status} />
                  </td>
                  <td data-label="Recipient">{p.recipient.name}</td>
                  <td data-label="Carrier">{p.carrier}</td>
                  {staff && <td data-label="Driver">{p.driverId ? driverName(p.driverId) : '—'}</td>}
                  <td data-label="Updated">
                    <When iso={p.updatedAt} />
                  </td>
                  <td data-label="ETA">{p.estimatedDelivery ? formatDay(p.estimatedDelivery) : '—'}</td>
                  <td class="row-actions">
                    <button type="button" class="button secondary small" onClick={() => setUpdating(p)} aria-label={`Update status of ${p.trackingNumber}`}>
                      Status
                    </button>
                    {staff && (
                      <button type="button" class="button secondary small" onClick={() => setAssigning(p)} aria-label={`Assign a driver to ${p.trackingNumber}`}>
                        Assign
                      </button>
                    )}
                    {role === 'admin' && (
                      <button type="button" class="button ghost small danger-text" onClick={() => setDeleting(p)} aria-label={`Delete ${p.trackingNumber}`}>
                        Delete
                      </button>
                    )}
                  </td>
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
      {creating && <CreatePackage onClose={() => setCreating(false)} onCreated={(p) => setNotice(`Created ${p.trackingNumber}.`)} />}
      {updatingNow && <StatusDialog pkg={updatingNow} onClose={() => setUpdating(undefined)} />}
      {assigningNow && <AssignDriverDialog pkg={assigningNow} driverName={driverName} onClose={() => setAssigning(undefined)} />}
      {deleting && (
        <ConfirmDialog
          title="Delete package?"
          message={
            <>
              Delete <code>{deleting.trackingNumber}</code> for {deleting.recipient.name}? Customers tracking it lose it from their list. This cannot be undone.
            </>
          }
          confirmLabel="Delete package"
          danger
          busy={removal.isLoading}
          error={removal.error ? (removal.error as ApiError).message : undefined}
          onConfirm={confirmDelete}
          onCancel={() => {
            removal.reset()
            setDeleting(undefined)
          }}
        />
      )}
    </section>
  )
}
