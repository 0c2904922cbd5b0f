import { useEffect, useRef, useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { useGetNotificationsQuery, useMarkAllNotificationsReadMutation, useMarkNotificationReadMutation, type Notification } from '../api/notifications.js'
import { ErrorNote, Loading, When } from './bits.js'

/** The header's bell: the unread count, live, and the latest notices on a click. */
export function NotificationBell() {
  const list = useGetNotificationsQuery()
  const [open, setOpen] = useState(false)
  const root = useRef<HTMLDivElement>(null)
  const unread = list.data?.unread ?? 0

  // Escape or a click elsewhere closes the list.
  useEffect(() => {
    if (!open) return
    const onKey = (ev: KeyboardEvent) => {
      if (ev.key === 'Escape') setOpen(false)
    }
    const onClick = (ev: MouseEvent) => {
      if (!root.current?.contains(ev.target as Node)) setOpen(false)
    }
    document.addEventListener('keydown', onKey)
    document.addEventListener('click', onClick)
    return () => {
      document.removeEventListener('keydown', onKey)
      document.removeEventListener('click', onClick)
    }
  }, [open])

  return (
    <div class="bell" ref={root}>
      <button
        type="button"
        class="button ghost small on-dark bell-button"
        aria-expanded={open}
        aria-controls="bell-panel"
        aria-label={unread > 0 ? `Notifications, ${unread} unread` : 'Notifications'}
        data-unread={unread}
        onClick={() => setOpen((o) => !o)}
      >
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path d="M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" />
        </svg>
        {unread > 0 && <span class="bell-count">{unread > 99 ? '99+' : unread}</span>}
      </button>
      {open && <BellPanel list={list} close={() => setOpen(false)} />}
    </div>
  )
}

function BellPanel({ list, close }: { list: ReturnType<typeof useGetNotificationsQuery>; close: () => void }) {
  const [markAll, all] = useMarkAllNotificationsReadMutation()
  const [markRead] = useMarkNotificationReadMutation()
  const items: Notification[] = list.data?.items ?? []
  const open = (n: Notification) => {
    if (!n.read) void markRead(n.id)
    close()
  }
  return (
    <section id="bell-panel" class="bell-panel card" aria-label="Notifications">
      <div class="card-head">
        <h2>Notifications</h2>
        <button type="button" class="button small secondary" disabled={all.isLoading || (list.data?.unread ?? 0) === 0} onClick={() => void markAll()}>
          Mark all read
        </button>
      </div>
      {all.error && <ErrorNote>Could not mark them read: {(all.error as ApiError).message}</ErrorNote>}
      {list.error ? (
        <ErrorNote>The notifications could not be loaded: {(list.error as ApiError).message}</ErrorNote>
      ) : !list.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <p class="muted">Nothing new. Status changes of your packages appear here.</p>
      ) : (
        <ul class="bell-list">
          {items.map((n) => (
            <li key={n.id} class={n.read ? 'bell-item' : 'bell-item unread'} data-read={n.read}>
              {n.trackingNumber ? (
                <a href={`/packages/${n.trackingNumber}`} onClick={() => open(n)}>
                  {n.title}
                </a>
              ) : (
                <button type="button" class="link-button" onClick={() => open(n)}>
                  {n.title}
                </button>
              )}
              <span class="bell-body">{n.body}</span>
              <When iso={n.createdAt} />
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
