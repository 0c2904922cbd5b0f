import { createApi } from '@reduxjs/toolkit/query/react'
import { signedIn } from '../store/session.js'
import { baseQuery } from './base-query.js'
import type { AuthResult, User } from './types.js'

/**
 * The one RTK Query API of the console: every REST call goes through it, so pages
 * share one cache. Endpoints are injected by area (packages.ts, admin.ts); live
 * events patch this cache in place (live/cache.ts) instead of refetching.
 */
export const api = createApi({
  reducerPath: 'api',
  baseQuery,
  tagTypes: ['Package', 'Tracking', 'Device', 'Stats', 'Me', 'Assignment', 'Proof', 'Driver', 'Notification', 'Metrics', 'CarrierSync'],
  // Live events keep cached data current; refetch only what a reconnect may have missed.
  refetchOnReconnect: false,
  refetchOnFocus: false,
  keepUnusedDataFor: 60,
  endpoints: (build) => ({
    login: build.mutation<AuthResult, { email: string; password: string }>({
      query: (body) => ({ url: '/auth/login', method: 'POST', body }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        const { data } = await queryFulfilled.catch(() => ({ data: undefined }))
        if (data) dispatch(signedIn(data))
      },
    }),
    register: build.mutation<AuthResult, { email: string; password: string; name: string }>({
      query: (body) => ({ url: '/auth/register', method: 'POST', body }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        const { data } = await queryFulfilled.catch(() => ({ data: undefined }))
        if (data) dispatch(signedIn(data))
      },
    }),
    me: build.query<User, void>({
      query: () => '/auth/me',
      providesTags: ['Me'],
    }),
  }),
})

export const { useLoginMutation, useRegisterMutation, useMeQuery } = api
