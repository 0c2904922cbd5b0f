import type pg from 'pg'
import { invalid } from '../platform/errors.js'
import type { Audience, Draft, Notification } from './domain.js'
import type { Delivered, NotificationRepository, Page } from './ports.js'

interface NotificationRow {
  id: string
  user_id: string
  type: string
  title: string
  body: string
  tracking_number: string | null
  read_at: Date | null
  created_at: Date
  cursor_at: string
}

const COLUMNS = `id, user_id, type, title, body, tracking_number, read_at, created_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`

const toNotification = (r: NotificationRow): Notification => ({
  id: r.id,
  type: r.type,
  title: r.title,
  body: r.body,
  trackingNumber: r.tracking_number,
  read: r.read_at !== null,
  createdAt: r.created_at,
})

/**
 * The users an audience names, as a query on $6. Followers are read through the
 * event's own log row, so a tracking number issued again later cannot mislead it.
 */
function audienceSql(audience: Audience): string {
  if (audience.kind === 'user') return 'SELECT id AS user_id FROM users WHERE id = $6::uuid'
  return `SELECT p.customer_id AS user_id FROM package_events e JOIN packages p ON p.id = e.package_id WHERE e.id = $6::uuid AND p.customer_id IS NOT NULL
    UNION SELECT t.user_id FROM package_events e JOIN user_trackings t ON t.package_id = e.package_id WHERE e.id = $6::uuid`
}

/** Notifications in PostgreSQL (migration 0013); runs on PGlite as well. */
export class PostgresNotificationRepository implements NotificationRepository {
  constructor(private readonly pool: pg.Pool) {}

  async fanOut(draft: Draft): Promise<Delivered[]> {
    const who = draft.audience.kind === 'user' ? draft.audience.userId : draft.audience.eventId
    const { rows } = await this.pool.query<NotificationRow>(
      `INSERT INTO notifications (user_id, event_id, type, title, body, tracking_number)
       SELECT a.user_id, $1, $2, $3, $4, $5 FROM (${audienceSql(draft.audience)}) a
       ON CONFLICT (event_id, user_id) DO NOTHING
       RETURNING ${COLUMNS}`,
      [draft.eventId, draft.type, draft.title, draft.body, draft.trackingNumber, who],
    )
    return rows.map((r) => ({ ...toNotification(r), userId: r.user_id }))
  }

  async list(userId: string, opts: { unreadOnly: boolean; limit: number; cursor?: string }): Promise<Page> {
    const values: unknown[] = [userId, opts.limit + 1]
    let where = 'user_id = $1'
    if (opts.unreadOnly) where += ' AND read_at IS NULL'
    if (opts.cursor) {
      const c = decodeCursor(opts.cursor)
      values.push(c.createdAt, c.id)
      where += ' AND (created_at, id) < ($3::timestamptz, $4::uuid)'
    }
    const { rows } = await this.pool.query<NotificationRow>(`SELECT ${COLUMNS} FROM notifications WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $2`, values)
    const page = rows.slice(0, opts.limit)
    const last = page.at(-1)
    const nextCursor = rows.length > opts.limit && last ? Buffer.from(JSON.stringify([last.cursor_at, last.id])).toString('base64url') : null
    return { items: page.map(toNotification), nextCursor }
  }

  async unreadCount(userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL', [userId])
    return rows[0]!.n
  }

  async markRead(userId: string, id: string, at: Date): Promise<boolean> {
    // The first reading time stays; the user filter makes someone else's id a miss.
    const { rowCount } = await this.pool.query('UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $2 AND user_id = $1', [userId, id, at])
    return rowCount === 1
  }

  async markAllRead(userId: string, at: Date): Promise<void> {
    await this.pool.query('UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL', [userId, at])
  }
}

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/
const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function sameInstant(at: string): boolean {
  const date = new Date(at)
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 19) === at.slice(0, 19)
}

/** `[createdAt, id]` as list() encoded it; anything else is a 400, never a database error. */
function decodeCursor(cursor: string): { createdAt: string; id: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    parsed = undefined
  }
  const [createdAt, id] = Array.isArray(parsed) ? (parsed as unknown[]) : []
  const valid =
    typeof createdAt === 'string' &&
    CURSOR_TIME.test(createdAt) &&
    // A date PostgreSQL would refuse (2030-02-31) only parses here by rolling over.
    sameInstant(createdAt) &&
    typeof id === 'string' &&
    CURSOR_ID.test(id)
  if (!valid) throw invalid('/query/cursor', 'is not a cursor this API returned')
  return { createdAt, id }
}
