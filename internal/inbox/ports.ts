import type { Draft, Notification } from './domain.js'

/** A notification just written, with the user it belongs to (what is announced live). */
export interface Delivered extends Notification {
  userId: string
}

export interface Page {
  items: Notification[]
  nextCursor: string | null
}

export interface NotificationRepository {
  /**
   * Writes the draft's notification for every user of its audience in ONE
   * statement, however many they are, and returns the rows it inserted. Idempotent
   * by (event id, user): a redelivered event inserts, and returns, nothing again.
   * A user or package that no longer exists simply receives nothing.
   */
  fanOut(draft: Draft): Promise<Delivered[]>
  /** The user's notifications, newest first; only unread ones with `unreadOnly`. Invalid cursor: AppError invalid. */
  list(userId: string, opts: { unreadOnly: boolean; limit: number; cursor?: string }): Promise<Page>
  unreadCount(userId: string): Promise<number>
  /** Marks one of the user's notifications read (again is fine). False when the user has no such notification. */
  markRead(userId: string, id: string, at: Date): Promise<boolean>
  markAllRead(userId: string, at: Date): Promise<void>
}

/**
 * Tells the users' open sockets of new notifications (`notification.created` on
 * `user:<id>`). Best effort: a notice that cannot go out is lost to the live view
 * only; the list still has the notification.
 */
export interface Announcer {
  announce(delivered: readonly Delivered[]): Promise<void>
}
