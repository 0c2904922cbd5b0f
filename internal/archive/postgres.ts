import type pg from 'pg'
import { isUniqueViolation, withTx } from '../platform/db/postgres.js'
import { ClaimConflict, type ArchiveLedger, type Claim, type NewBatch } from './ports.js'

/** The archive ledger in PostgreSQL (archive_batches, archive_events; migration 0004). */
export class PostgresArchiveLedger implements ArchiveLedger {
  constructor(private readonly pool: pg.Pool) {}

  async claims(ids: string[]): Promise<Map<string, Claim>> {
    if (ids.length === 0) return new Map()
    const { rows } = await this.pool.query<{ event_id: string; key: string; uploaded: boolean }>(
      `SELECT e.event_id, b.key, b.uploaded_at IS NOT NULL AS uploaded
       FROM archive_events e JOIN archive_batches b ON b.id = e.batch_id WHERE e.event_id = ANY($1::uuid[])`,
      [ids],
    )
    return new Map(rows.map((r) => [r.event_id, { key: r.key, uploaded: r.uploaded }]))
  }

  async record(batches: NewBatch[]): Promise<void> {
    try {
      await withTx(this.pool, async (tx) => {
        const ids: number[] = []
        for (const b of batches) {
          const { rows } = await tx.query<{ id: number }>('INSERT INTO archive_batches (key, body, events) VALUES ($1, $2, $3) RETURNING id', [
            b.key,
            Buffer.from(b.body.buffer, b.body.byteOffset, b.body.byteLength),
            b.ids.length,
          ])
          ids.push(rows[0]!.id)
        }
        await tx.query('INSERT INTO archive_events (event_id, batch_id) SELECT * FROM unnest($1::uuid[], $2::bigint[])', [
          batches.flatMap((b) => b.ids),
          batches.flatMap((b, i) => b.ids.map(() => ids[i]!)),
        ])
      })
    } catch (err) {
      if (isUniqueViolation(err)) throw new ClaimConflict('some events were claimed by another batch')
      throw err
    }
  }

  async body(key: string): Promise<Uint8Array | null> {
    const { rows } = await this.pool.query<{ body: Buffer | null }>('SELECT body FROM archive_batches WHERE key = $1 AND uploaded_at IS NULL', [key])
    return rows[0]?.body ? new Uint8Array(rows[0].body) : null
  }

  async markUploaded(keys: string[]): Promise<void> {
    await this.pool.query('UPDATE archive_batches SET uploaded_at = now(), body = NULL WHERE key = ANY($1::text[]) AND uploaded_at IS NULL', [keys])
  }

  async prune(before: Date): Promise<number> {
    return withTx(this.pool, async (tx) => {
      const { rows } = await tx.query<{ id: number }>('DELETE FROM archive_batches WHERE uploaded_at < $1 RETURNING id', [before])
      if (rows.length > 0) await tx.query('DELETE FROM archive_events WHERE batch_id = ANY($1::bigint[])', [rows.map((r) => r.id)])
      return rows.length
    })
  }
}
