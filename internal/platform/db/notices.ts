import pg from 'pg'

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
 * LISTENs on a channel over a client of its own, outside the pool (a LISTEN holds
 * its connection for the life of the process; the pool's are for queries), and
 * attaches again when that connection breaks. Not for PGlite, whose single
 * connection it would hold. Returns the function that stops listening.
 */
export async function listenForNotices(pool: pg.Pool, channel: string, handlers: NoticeHandlers, retryMs = 1_000): Promise<() => Promise<void>> {
  let stopped = false
  let lost = false
  let client: pg.Client | undefined
  const attach = async (): Promise<void> => {
    if (stopped) return
    const c = new pg.Client(pool.options)
    let failed = false
    const fail = (err: unknown, message: string) => {
      // The error event and a rejected connect may both report one failure: retry once.
      if (failed) return
      failed = true
      handlers.log.warn({ err }, message)
      if (client === c) client = undefined
      void c.end().catch(() => undefined)
      lost = true
      setTimeout(() => void attach(), retryMs).unref()
    }
    c.on('notification', (msg) => {
      if (msg.channel === channel) handlers.notice(msg.payload)
    })
    c.on('error', (err) => fail(err, `LISTEN ${channel} connection broke; listening again`))
    try {
      await c.connect()
      await c.query(`LISTEN ${channel}`)
    } catch (err) {
      fail(err, `cannot LISTEN ${channel}; trying again`)
      return
    }
    if (stopped) {
      await c.end().catch(() => undefined)
      return
    }
    client = c
    if (lost) {
      lost = false
      handlers.resumed()
    }
  }
  await attach()
  return async () => {
    stopped = true
    const c = client
    client = undefined
    await c?.end().catch(() => undefined)
  }
}
