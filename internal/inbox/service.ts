import { notFound } from '../platform/errors.js'
import { itemOf, type NotificationItem } from './domain.js'
import type { NotificationRepository } from './ports.js'

export interface InboxServiceDeps {
  notifications: NotificationRepository
  clock?: () => Date
}

export interface InboxPage {
  items: NotificationItem[]
  /** The user's unread notifications in all, whatever the page holds. */
  unread: number
  nextCursor: string | null
}

/** A user's own notifications: the list with its unread count, and marking them read. */
export class InboxService {
  private readonly now: () => Date

  constructor(private readonly deps: InboxServiceDeps) {
    this.now = deps.clock ?? (() => new Date())
  }

  async list(userId: string, query: { unread?: boolean; limit: number; cursor?: string }): Promise<InboxPage> {
    const [page, unread] = await Promise.all([
      this.deps.notifications.list(userId, { unreadOnly: query.unread === true, limit: query.limit, cursor: query.cursor }),
      this.deps.notifications.unreadCount(userId),
    ])
    return { items: page.items.map(itemOf), unread, nextCursor: page.nextCursor }
  }

  /** Someone else's notification is not found, as if it did not exist. */
  async markRead(userId: string, id: string): Promise<void> {
    if (!(await this.deps.notifications.markRead(userId, id, this.now()))) throw notFound('notification')
  }

  markAllRead(userId: string): Promise<void> {
    return this.deps.notifications.markAllRead(userId, this.now())
  }
}
