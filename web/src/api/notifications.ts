import type { SessionState } from '../store/session.js'
import { api } from './api.js'
import type { ClientEnv } from './client-env.js'

export interface Notification {
  id: string
  type: string
  title: string
  body: string
  trackingNumber?: string
  read: boolean
  createdAt: string
}

export interface NotificationList {
  items: Notification[]
  /** The user's whole unread count, not the page's. */
  unread: number
  nextCursor: string | null
}

const LIMIT = 20
const LIST = { type: 'Notification' as const, id: 'LIST' }

/** A live notice joins the list once (it may arrive again after a reconnect's refetch). */
export function addNotice(list: NotificationList, notice: Notification): void {
  if (list.items.some((n) => n.id === notice.id)) return
  list.items.unshift(notice)
  if (list.items.length > LIMIT) list.items.pop()
  if (!notice.read) list.unread += 1
}

export function markOneRead(list: NotificationList, id: string): void {
  const n = list.items.find((i) => i.id === id)
  if (!n || n.read) return
  n.read = true
  list.unread = Math.max(0, list.unread - 1)
}

/** The in-app inbox: the newest notices and the unread count, kept current from `user:<id>`. */
export const notificationsApi = api.injectEndpoints({
  endpoints: (build) => ({
    getNotifications: build.query<NotificationList, void>({
      query: () => ({ url: '/me/notifications', params: { limit: LIMIT } }),
      providesTags: [LIST],
      async onCacheEntryAdded(_arg, { dispatch, getState, extra, cacheDataLoaded, cacheEntryRemoved }) {
        const userId = (getState() as unknown as { session: SessionState }).session.user?.id
        if (!userId) return
        const loaded = cacheDataLoaded.then(() => true, () => false)
        const off = (extra as ClientEnv).live.subscribe(`user:${userId}`, {
          onEvent: (ev) => {
            if (ev.type !== 'notification.created') return
            const notice = (ev.data as { notification?: Notification }).notification
            if (!notice) return
            void loaded.then((ok) => ok && dispatch(notificationsApi.util.updateQueryData('getNotifications', undefined, (d) => addNotice(d, notice))))
          },
          // Notices are live-only: what a broken link missed is read from the list again.
          onSubscribed: ({ resumed }) => {
            if (resumed) dispatch(api.util.invalidateTags([LIST]))
          },
        })
        await cacheEntryRemoved
        off()
      },
    }),
    markNotificationRead: build.mutation<void, string>({
      query: (id) => ({ url: `/me/notifications/${encodeURIComponent(id)}/read`, method: 'POST' }),
      async onQueryStarted(id, { dispatch, queryFulfilled }) {
        const patch = dispatch(notificationsApi.util.updateQueryData('getNotifications', undefined, (d) => markOneRead(d, id)))
        await queryFulfilled.catch(() => patch.undo())
      },
    }),
    markAllNotificationsRead: build.mutation<void, void>({
      query: () => ({ url: '/me/notifications/read-all', method: 'POST' }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        const patch = dispatch(
          notificationsApi.util.updateQueryData('getNotifications', undefined, (d) => {
            for (const n of d.items) n.read = true
            d.unread = 0
          }),
        )
        await queryFulfilled.catch(() => patch.undo())
      },
    }),
  }),
})

export const { useGetNotificationsQuery, useMarkNotificationReadMutation, useMarkAllNotificationsReadMutation } = notificationsApi
