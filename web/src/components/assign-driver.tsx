import { useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { packagesApi } from '../api/packages.js'
import { useAssignDriverMutation, useGetDriversQuery } from '../api/staff.js'
import type { Assignment, Package } from '../api/types.js'
import { useAppDispatch } from '../hooks.js'
import { formatDistance, rankDrivers } from '../lib/driver-choice.js'
import { ErrorNote, Loading, When } from './bits.js'
import { Modal } from './modal.js'

/** What went wrong, in words a dispatcher can act on. */
function explain(e: ApiError): string {
  switch (e.code) {
    case 'invalid_transition':
      return 'This package has reached a final status: it cannot be given to a driver any more.'
    case 'version_mismatch':
      return 'The package changed while you were choosing. Look at it again and retry.'
    case 'not_found':
      return 'The package or the driver no longer exists.'
    case 'validation_failed':
      return `That is not a driver account (${e.message}).`
    default:
      return e.message
  }
}

/** Offers the package to a driver: nearest and least loaded first; replacing an active offer asks first. */
export function AssignDriverDialog({ pkg, onClose, driverName }: { pkg: Package; onClose: () => void; driverName: (id: string) => string }) {
  const drivers = useGetDriversQuery(undefined, { refetchOnMountOrArgChange: true })
  const [assign, { isLoading }] = useAssignDriverMutation()
  const [error, setError] = useState<string>()
  const [conflict, setConflict] = useState<{ driverId: string; current?: Assignment; version: number }>()
  const dispatch = useAppDispatch()
  // The package's last position if it has one, else where it starts.
  const from = pkg.lastLocation ?? pkg.origin

  const send = async (driverId: string, replaceVersion?: number) => {
    setError(undefined)
    try {
      await assign({ trackingNumber: pkg.trackingNumber, driverId, ...(replaceVersion === undefined ? {} : { replaceVersion }) }).unwrap()
      onClose()
    } catch (err) {
      const e = err as ApiError
      if (e.code !== 'already_assigned' || replaceVersion !== undefined) return setError(explain(e))
      // Replace exactly the state shown now: the package as it is at this answer.
      const fresh = await dispatch(packagesApi.endpoints.getPackage.initiate(pkg.trackingNumber, { subscribe: false, forceRefetch: true }))
      const version = fresh.data && fresh.data.view !== 'public' ? fresh.data.version : pkg.version
      setConflict({ driverId, current: e.details?.[0]?.value as Assignment | undefined, version })
    }
  }

  const ranked = drivers.data ? rankDrivers(drivers.data.items, from) : []
  return (
    <Modal title={`Assign ${pkg.trackingNumber}`} onClose={onClose} size="wide">
      <p class="muted">{from ? `Distances from the package's ${pkg.lastLocation ? 'last position' : 'origin'}.` : 'The package has no position: distances are unknown.'}</p>
      {drivers.error ? (
        <ErrorNote>The drivers could not be loaded: {(drivers.error as ApiError).message}</ErrorNote>
      ) : !drivers.data ? (
        <Loading label="Loading drivers…" />
      ) : ranked.length === 0 ? (
        <p class="notice">There are no driver accounts yet. An admin creates them under Users.</p>
      ) : (
        <ul class="driver-list" aria-label="Drivers">
          {ranked.map(({ driver, km }) => (
            <li key={driver.id} class="driver-row" data-driver={driver.name}>
              <div>
                <strong>{driver.name}</strong>
                <span class="muted">
                  {' · '}
                  <span data-testid="shift">{driver.onShift ? 'on shift' : 'off shift'}</span>
                  {' · '}
                  <span data-testid="load">{driver.activeAssignments === 1 ? '1 active package' : `${driver.activeAssignments} active packages`}</span>
                  {' · '}
                  <span data-testid="distance">{formatDistance(km)}</span>
                  {driver.lastSeenAt && (
                    <>
                      {' · seen '}
                      <When iso={driver.lastSeenAt} />
                    </>
                  )}
                </span>
              </div>
              <button type="button" class="button small" disabled={isLoading || driver.id === pkg.driverId} onClick={() => void send(driver.id)} aria-label={`Assign to ${driver.name}`}>
                {driver.id === pkg.driverId ? 'Assigned' : 'Assign'}
              </button>
            </li>
          ))}
        </ul>
      )}
      {conflict && (
        <div class="notice" role="alert">
          <p>
            {conflict.current ? `${driverName(conflict.current.driverId)} already has this package (${conflict.current.state}).` : 'Another driver already has this package.'} Replace them with{' '}
            {driverName(conflict.driverId)}? The current assignment is cancelled.
          </p>
          <button type="button" class="button small" disabled={isLoading} onClick={() => void send(conflict.driverId, conflict.version)}>
            Replace
          </button>{' '}
          <button type="button" class="button small secondary" onClick={() => setConflict(undefined)}>
            Keep
          </button>
        </div>
      )}
      {error && <ErrorNote>{error}</ErrorNote>}
    </Modal>
  )
}
