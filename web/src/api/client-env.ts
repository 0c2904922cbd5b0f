import type { LiveSocket } from '../live/socket.js'
import type { SessionStorage } from '../store/session.js'

/**
 * What the store's async code needs from its surroundings, handed in as the thunk
 * `extra` argument: the browser's in production, fakes in tests.
 */
export interface ClientEnv {
  /** The API base, `/api/v1` in the browser (absolute in tests). */
  baseUrl: string
  fetchFn: typeof fetch
  storage: SessionStorage
  live: LiveSocket
  /** Runs a token refresh while holding a lock shared by the tabs of this origin. */
  withRefreshLock: <T>(fn: () => Promise<T>) => Promise<T>
  now: () => number
}

/** navigator.locks where the browser has it, so two tabs never present the same refresh token. */
export function browserRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as (Navigator & { locks?: LockManager }) | undefined)?.locks
  return locks ? (locks.request('delivertrack.refresh', fn) as Promise<T>) : fn()
}
