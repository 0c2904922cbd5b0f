import { applyEverywhere, bufferUntilLoaded, type CacheDispatch, type CacheState } from '../live/cache.js'
import type { SessionState } from '../store/session.js'
import { api } from './api.js'
import type { ClientEnv } from './client-env.js'
import type { LocationPoint, NewOrder, NewPackage, Package, PackageEvent, PackageQuery, PackageRead, Page, PublicView, StatusChange, TrackingEntry } from './types.js'

type Dispatch = CacheDispatch
const SEES_ALL = new Set(['admin', 'operator'])
const REFETCH_AFTER_MS = 1500
const enc = encodeURIComponent

const sameQuery = (a: PackageQuery | undefined, b: PackageQuery | undefined) => JSON.stringify(a ?? {}) === JSON.stringify(b ?? {})

/** Packages, the customer's tracking list, the public view, and the live events that keep them current. */
export const packagesApi = api.injectEndpoints({
  endpoints: (build) => ({
    getTrackings: build.query<{ items: TrackingEntry[] }, void>({
      query: () => '/me/trackings',
      providesTags: [{ type: 'Tracking', id: 'LIST' }],
      async onCacheEntryAdded(_arg, { dispatch, getState, extra, cacheDataLoaded, cacheEntryRemoved }) {
        const userId = (getState() as unknown as { session: SessionState }).session.user?.id
        if (!userId) return
        const apply = bufferUntilLoaded((ev) => onEvent(dispatch, getState, ev), cacheDataLoaded)
        const off = (extra as ClientEnv).live.subscribe(`user:${userId}`, {
          onEvent: apply,
          // The user channel cannot replay what a broken link missed: fetch the list once.
          onSubscribed: ({ resumed }) => {
            if (resumed) dispatch(api.util.invalidateTags([{ type: 'Tracking', id: 'LIST' }]))
          },
          // The account was deleted or changed: the list's answer says what is left (or signs out).
          onRevoked: () => dispatch(api.util.invalidateTags([{ type: 'Tracking', id: 'LIST' }])),
        })
        await cacheEntryRemoved
        off()
      },
    }),

    addTracking: build.mutation<TrackingEntry, { trackingNumber: string; label?: string }>({
      query: (body) => ({ url: '/me/trackings', method: 'POST', body }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        const { data } = await queryFulfilled.catch(() => ({ data: undefined }))
        if (!data) return
        dispatch(
          packagesApi.util.updateQueryData('getTrackings', undefined, (d) => {
            d.items = [data, ...d.items.filter((e) => e.trackingNumber !== data.trackingNumber)]
          }),
        )
      },
    }),

    removeTracking: build.mutation<void, string>({
      query: (tn) => ({ url: `/me/trackings/${enc(tn)}`, method: 'DELETE' }),
      async onQueryStarted(tn, { dispatch, queryFulfilled }) {
        const patch = dispatch(
          packagesApi.util.updateQueryData('getTrackings', undefined, (d) => {
            d.items = d.items.filter((e) => e.trackingNumber !== tn)
          }),
        )
        await queryFulfilled.catch(() => patch.undo())
      },
    }),

    getPackages: build.query<Page<Package>, PackageQuery>({
      query: ({ status, q, cursor, limit = 25 }) => ({ url: '/packages', params: { status, q, cursor, limit } }),
      providesTags: [{ type: 'Package', id: 'LIST' }],
      async onCacheEntryAdded(arg, { dispatch, getState, extra, cacheDataLoaded, cacheEntryRemoved }) {
        const role = (getState() as unknown as { session: SessionState }).session.user?.role
        if (!role || !SEES_ALL.has(role)) return
        let timer: ReturnType<typeof setTimeout> | undefined
        // A package this page does not hold appeared: refetch it, at most once per interval.
        const refetchSoon = () => {
          timer ??= setTimeout(() => {
            timer = undefined
            void dispatch(packagesApi.endpoints.getPackages.initiate(arg, { subscribe: false, forceRefetch: true }))
          }, REFETCH_AFTER_MS)
        }
        const apply = bufferUntilLoaded((ev) => {
          if (onEvent(dispatch, getState, ev).some((a) => sameQuery(a, arg))) refetchSoon()
        }, cacheDataLoaded)
        const off = (extra as ClientEnv).live.subscribe('all', {
          onEvent: apply,
          onSubscribed: ({ resumed }) => {
            if (resumed) refetchSoon()
          },
          // No longer staff (role changed): the next answer shows what the user may list now.
          onRevoked: () => dispatch(api.util.invalidateTags([{ type: 'Package', id: 'LIST' }])),
        })
        await cacheEntryRemoved
        off()
        clearTimeout(timer)
      },
    }),

    // A tracker who follows someone else's number gets its public view here (`view: "public"`).
    getPackage: build.query<PackageRead, string>({
      query: (tn) => `/packages/${enc(tn)}`,
      providesTags: (_r, _e, tn) => [{ type: 'Package', id: tn }],
    }),

    getPackageEvents: build.query<{ items: PackageEvent[] }, string>({
      query: (tn) => `/packages/${enc(tn)}/events`,
      providesTags: (_r, _e, tn) => [{ type: 'Package', id: tn }],
      // The package channel resumes from the last seq of the log: no gap, no duplicate.
      async onCacheEntryAdded(tn, { dispatch, getState, extra, cacheDataLoaded, cacheEntryRemoved }) {
        const loaded = await cacheDataLoaded.catch(() => undefined)
        if (!loaded) return
        const since = loaded.data.items.reduce((max, e) => Math.max(max, e.seq ?? 0), 0)
        const off = (extra as ClientEnv).live.subscribe(
          `package:${tn}`,
          {
            onEvent: (ev) => void onEvent(dispatch, getState, ev),
            // Reassigned, given to another owner or a changed role: fetch it again (public view or 404).
            onRevoked: () => dispatch(api.util.invalidateTags([{ type: 'Package', id: tn }])),
          },
          { since },
        )
        await cacheEntryRemoved
        off()
      },
    }),

    getPackageLocations: build.query<{ items: LocationPoint[] }, string>({
      query: (tn) => ({ url: `/packages/${enc(tn)}/locations`, params: { limit: 500 } }),
      providesTags: (_r, _e, tn) => [{ type: 'Package', id: tn }],
    }),

    getPublicTracking: build.query<PublicView, string>({
      // no-cache: revalidate with the etag instead of trusting max-age after a reconnect.
      query: (tn) => ({ url: `/track/${enc(tn)}`, cache: 'no-cache' }),
      async onCacheEntryAdded(tn, { dispatch, getState, extra, cacheDataLoaded, cacheEntryRemoved }) {
        const apply = bufferUntilLoaded((ev) => void onEvent(dispatch, getState, ev), cacheDataLoaded)
        const off = (extra as ClientEnv).live.subscribe(`track:${tn}`, { onEvent: apply })
        await cacheEntryRemoved
        off()
      },
    }),

    createPackage: build.mutation<Package, NewPackage>({
      query: (body) => ({ url: '/packages', method: 'POST', body }),
      invalidatesTags: [{ type: 'Package', id: 'LIST' }],
    }),

    /** A customer's order, sent with the client's Idempotency-Key: a resend (double click, reload) gets the same order. */
    placeOrder: build.mutation<Package, { order: NewOrder; key: string }>({
      query: ({ order, key }) => ({ url: '/packages', method: 'POST', body: order, headers: { 'idempotency-key': key } }),
      invalidatesTags: [{ type: 'Tracking', id: 'LIST' }],
    }),

    changeStatus: build.mutation<Package, StatusChange & { trackingNumber: string }>({
      query: ({ trackingNumber, ...body }) => ({ url: `/packages/${enc(trackingNumber)}/status`, method: 'POST', body }),
      async onQueryStarted(_arg, { dispatch, getState, queryFulfilled }) {
        const { data } = await queryFulfilled.catch(() => ({ data: undefined }))
        if (data) putPackage(dispatch, getState() as unknown as CacheState, data)
      },
    }),

    deletePackage: build.mutation<void, string>({
      query: (tn) => ({ url: `/packages/${enc(tn)}`, method: 'DELETE' }),
      async onQueryStarted(tn, { dispatch, getState, queryFulfilled }) {
        if (!(await queryFulfilled.then(() => true, () => false))) return
        const now = new Date().toISOString()
        onEvent(dispatch, getState, { id: `deleted-${tn}`, type: 'package.deleted', trackingNumber: tn, occurredAt: now, recordedAt: now, data: {} })
      },
    }),
  }),
})

function onEvent(dispatch: Dispatch, getState: () => unknown, ev: PackageEvent) {
  return applyEverywhere(packagesApi, dispatch, getState() as CacheState, ev)
}

/** A package fresh from a write: replaces every cached copy that is not newer. */
function putPackage(dispatch: Dispatch, state: CacheState, pkg: Package): void {
  const { util } = packagesApi
  const newer = (old: Package) => old.version <= pkg.version
  dispatch(util.updateQueryData('getPackage', pkg.trackingNumber, (d) => (d.view !== 'public' && newer(d) ? pkg : d)))
  for (const arg of util.selectCachedArgsForQuery(state, 'getPackages')) {
    dispatch(
      util.updateQueryData('getPackages', arg, (d) => {
        const i = d.items.findIndex((p) => p.trackingNumber === pkg.trackingNumber)
        if (i >= 0 && newer(d.items[i]!)) d.items[i] = pkg
      }),
    )
  }
  dispatch(
    util.updateQueryData('getTrackings', undefined, (d) => {
      const entry = d.items.find((e) => e.trackingNumber === pkg.trackingNumber)
      // A tracker's public view stays one: a full package reaches this list only through its owner's channels.
      if (entry && entry.package.view !== 'public' && newer(entry.package)) entry.package = pkg
    }),
  )
}

export const {
  useGetTrackingsQuery,
  useAddTrackingMutation,
  useRemoveTrackingMutation,
  useGetPackagesQuery,
  useGetPackageQuery,
  useGetPackageEventsQuery,
  useGetPackageLocationsQuery,
  useGetPublicTrackingQuery,
  useCreatePackageMutation,
  usePlaceOrderMutation,
  useChangeStatusMutation,
  useDeletePackageMutation,
} = packagesApi
