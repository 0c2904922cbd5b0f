import { configureStore, createAsyncThunk, createListenerMiddleware, isAnyOf } from '@reduxjs/toolkit'
import { api } from '../api/api.js'
import { refreshSession } from '../api/base-query.js'
import type { ClientEnv } from '../api/client-env.js'
import { linkChanged, linkSlice } from '../live/link-slice.js'
import { LiveSocket, type LiveSocketOptions, type SocketLike } from '../live/socket.js'
import { adopted, emptySession, sessionSlice, signedIn, signedOut, tokenExpiry, type SessionState, type SessionStorage } from './session.js'

export interface StoreOptions {
  baseUrl: string
  fetchFn: typeof fetch
  storage: SessionStorage
  wsUrl: () => string
  connect: (url: string) => SocketLike
  withRefreshLock?: ClientEnv['withRefreshLock']
  now?: () => number
  socket?: Pick<LiveSocketOptions, 'backoff' | 'random' | 'timers' | 'pingIntervalMs'>
}

const reducer = { [api.reducerPath]: api.reducer, session: sessionSlice.reducer, link: linkSlice.reducer }
type State = { [K in keyof typeof reducer]: ReturnType<(typeof reducer)[K]> }

/**
 * The console's store: the RTK Query cache, the session and the link state, with
 * the tab's one LiveSocket. The session is persisted, follows other tabs (see
 * `adopted`), refreshes its access token a minute before it expires, and a change
 * of user clears the cache so nothing of the previous user lingers.
 */
export function makeStore(opts: StoreOptions) {
  const listener = createListenerMiddleware<State>()
  let dispatchLink: (action: ReturnType<typeof linkChanged>) => void = () => undefined
  const env: ClientEnv = {
    baseUrl: opts.baseUrl,
    fetchFn: opts.fetchFn,
    storage: opts.storage,
    withRefreshLock: opts.withRefreshLock ?? ((fn) => fn()),
    now: opts.now ?? (() => Date.now()),
    live: new LiveSocket({
      ...opts.socket,
      url: opts.wsUrl,
      connect: opts.connect,
      onStatus: (status) => dispatchLink(linkChanged(status)),
      onAuthFailed: () => void refreshSession(store.dispatch, store.getState, env),
    }),
  }
  const store = configureStore({
    reducer,
    middleware: (gdm) => gdm({ thunk: { extraArgument: env } }).prepend(listener.middleware).concat(api.middleware),
  })
  dispatchLink = store.dispatch

  listener.startListening({
    matcher: isAnyOf(signedIn, signedOut, adopted),
    effect: (_action, l) => {
      if (l.getOriginalState().session.user?.id !== l.getState().session.user?.id) l.dispatch(api.util.resetApiState())
    },
  })
  listener.startListening({
    predicate: (_action, now, before) => now.session.accessToken !== before.session.accessToken,
    effect: async (_action, l) => {
      l.cancelActiveListeners()
      const token = l.getState().session.accessToken
      const exp = token ? tokenExpiry(token) : undefined
      if (exp === undefined) return
      const left = exp * 1000 - env.now()
      await l.delay(Math.max(0, left > 120_000 ? left - 60_000 : left / 2))
      await refreshSession(l.dispatch, l.getState, env)
    },
  })

  let last: SessionState = store.getState().session
  const unsubscribe = store.subscribe(() => {
    const session = store.getState().session
    if (session === last) return
    last = session
    opts.storage.save(session)
    env.live.setToken(session.accessToken)
  })
  const restored = opts.storage.load()
  if (restored) store.dispatch(adopted(restored))

  return Object.assign(store, {
    env,
    /** Stops the socket and every timer (tests; a page never needs it). */
    dispose() {
      unsubscribe()
      listener.clearListeners()
      env.live.stop()
    },
  })
}

export type AppStore = ReturnType<typeof makeStore>
export type RootState = State
export type AppDispatch = AppStore['dispatch']

/** Ends the session at once; tells the server (revoking the refresh token) in the background. */
export const signOut = createAsyncThunk('session/signOut', async (_: void, { getState, dispatch, extra }) => {
  const env = extra as ClientEnv
  const { refreshToken } = (getState() as RootState).session
  dispatch(signedOut())
  if (!refreshToken) return
  await env
    .fetchFn(`${env.baseUrl}/auth/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }) })
    .catch(() => undefined)
})

export { emptySession }
