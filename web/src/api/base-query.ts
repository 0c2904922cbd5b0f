import type { ThunkDispatch, UnknownAction } from '@reduxjs/toolkit'
import { fetchBaseQuery, type BaseQueryFn, type FetchArgs } from '@reduxjs/toolkit/query'
import { adopted, signedOut, tokenExpiry, tokensRefreshed, type SessionState } from '../store/session.js'
import type { ClientEnv } from './client-env.js'
import type { ApiErrorBody, TokenPair } from './types.js'

/** Every failed request, REST or network, as the UI sees it. */
export interface ApiError {
  /** HTTP status, or 0 when the server could not be reached. */
  status: number
  code: string
  message: string
  details?: ApiErrorBody['details']
}

type WithSession = { session: SessionState }
type Dispatch = ThunkDispatch<unknown, unknown, UnknownAction>

const raws = new WeakMap<ClientEnv, ReturnType<typeof fetchBaseQuery>>()
function rawFor(env: ClientEnv) {
  let raw = raws.get(env)
  if (!raw) {
    raw = fetchBaseQuery({
      baseUrl: env.baseUrl,
      fetchFn: env.fetchFn,
      prepareHeaders: (headers, { getState }) => {
        const token = (getState() as WithSession).session.accessToken
        if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`)
        return headers
      },
    })
    raws.set(env, raw)
  }
  return raw
}

export function toApiError(error: { status: number | string; data?: unknown; error?: string }): ApiError {
  if (typeof error.status === 'number') {
    const body = error.data as Partial<ApiErrorBody> | undefined
    return {
      status: error.status,
      code: typeof body?.code === 'string' ? body.code : 'internal',
      message: typeof body?.message === 'string' ? body.message : `request failed (${error.status})`,
      ...(body?.details ? { details: body.details } : {}),
    }
  }
  return { status: 0, code: 'unavailable', message: 'Cannot reach DeliverTrack. Check your connection.' }
}

const isAuthCall = (args: string | FetchArgs) => /^\/?auth\/(login|register|refresh|logout)/.test(typeof args === 'string' ? args : args.url)

/**
 * fetchBaseQuery with the access token, the contract's error body, and one retry
 * after a background token refresh when the server answers 401.
 */
export const baseQuery: BaseQueryFn<string | FetchArgs, unknown, ApiError> = async (args, api, extraOptions) => {
  const env = api.extra as ClientEnv
  const raw = rawFor(env)
  const sentWith = (api.getState() as WithSession).session.accessToken
  let result = await raw(args, api, extraOptions)
  if (result.error?.status === 401 && sentWith && !isAuthCall(args)) {
    if (await refreshSession(api.dispatch as Dispatch, api.getState as () => WithSession, env, sentWith)) result = await raw(args, api, extraOptions)
  }
  if (result.error) return { error: toApiError(result.error as { status: number | string; data?: unknown }), meta: result.meta }
  return { data: result.data, meta: result.meta }
}

const inFlight = new WeakMap<ClientEnv, Promise<boolean>>()

const fresh = (token: string | null, now: number) => {
  const exp = token ? tokenExpiry(token) : undefined
  return exp !== undefined && exp * 1000 > now + 10_000
}

/**
 * Rotates the refresh token (POST /auth/refresh) once for all concurrent callers,
 * under a lock shared by the tabs: a tab that finds the tokens already rotated by
 * another adopts them instead of presenting a used token (which would revoke the
 * whole family). `staleAccess` is the token that was refused; if the session has
 * moved on since, there is nothing to do. Resolves true when a usable token is in place.
 */
export function refreshSession(dispatch: Dispatch, getState: () => WithSession, env: ClientEnv, staleAccess?: string): Promise<boolean> {
  const running = inFlight.get(env)
  if (running) return running
  const task = env
    .withRefreshLock(async () => {
      const current = getState().session
      if (!current.refreshToken || !current.user) return false
      if (staleAccess && current.accessToken !== staleAccess && fresh(current.accessToken, env.now())) return true
      let refreshToken = current.refreshToken
      const stored = env.storage.load()
      if (stored?.refreshToken && stored.refreshToken !== refreshToken && stored.user?.id === current.user.id) {
        dispatch(adopted(stored))
        if (fresh(stored.accessToken, env.now())) return true
        refreshToken = stored.refreshToken
      }
      let res: Response
      try {
        res = await env.fetchFn(`${env.baseUrl}/auth/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refreshToken }),
        })
      } catch {
        return false // offline: keep the session and try again later
      }
      if (res.ok) {
        dispatch(tokensRefreshed((await res.json()) as TokenPair))
        return true
      }
      if (res.status === 401) dispatch(signedOut({ expired: true }))
      return false
    })
    .finally(() => inFlight.delete(env))
  inFlight.set(env, task)
  return task
}
