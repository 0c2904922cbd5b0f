import type pg from 'pg'

/** Channel of the notices that someone's access changed (account deleted, role changed). */
export const ACCESS_CHANNEL = 'delivertrack_access'

/** What an access notice says: whose access changed, and which process made the change. */
export interface AccessNotice {
  userId: string
  origin: string | null
}

/** SQL for one notice, to run inside the statement or transaction that makes the change: sent only if it commits. */
export const notifyAccessSql = (payloadParam: string) => `pg_notify('${ACCESS_CHANNEL}', ${payloadParam})`

export const accessPayload = (notice: AccessNotice): string => JSON.stringify(notice)

export function parseAccessNotice(payload: string | undefined): AccessNotice | undefined {
  try {
    const value = JSON.parse(payload ?? '') as Partial<AccessNotice>
    return typeof value.userId === 'string' ? { userId: value.userId, origin: value.origin ?? null } : undefined
  } catch {
    return undefined
  }
}

export interface NoticeHandlers {
  notice(payload: string | undefined): void
  /** Listening again after the connection broke: notices sent meanwhile are lost, so re-check everything. */
  resumed(): void
  log: { warn(o: object, m: string): void }
}

/**
 * LISTENs on a channel over a connection of its own (not on PGlite, whose single
 * connection it would hold) and re-attaches when that connection breaks. Returns
 * the function that stops listening.
 */
export async function listenForNotices(pool: pg.Pool, channel: string, handlers: NoticeHandlers, retryMs = 1_000): Promise<() => Promise<void>> {
  let stopped = false
  let lost = false
  let client: pg.PoolClient | undefined
  const retry = () => {
    lost = true
    setTimeout(() => void attach(), retryMs).unref()
  }
  const attach = async (): Promise<void> => {
    if (stopped) return
    let c: pg.PoolClient | undefined
    try {
      c = await pool.connect()
      const mine = c
      c.on('notification', (msg) => {
        if (msg.channel === channel) handlers.notice(msg.payload)
      })
      c.on('error', (err) => {
        handlers.log.warn({ err }, `LISTEN ${channel} connection broke; listening again`)
        mine.release(true)
        if (client === mine) client = undefined
        retry()
      })
      await c.query(`LISTEN ${channel}`)
      client = c
      if (lost) {
        lost = false
        handlers.resumed()
      }
    } catch (err) {
      handlers.log.warn({ err }, `cannot LISTEN ${channel}; trying again`)
      if (c && client !== c) c.release(true)
      retry()
    }
  }
  await attach()
  return async () => {
    stopped = true
    const c = client
    client = undefined
    if (!c) return
    await c.query('UNLISTEN *').catch(() => undefined)
    c.release()
  }
}
