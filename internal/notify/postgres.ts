import type pg from 'pg'
import type { Receipts } from './ports.js'

/** Receipts in PostgreSQL (worker_receipts; migration 0004). */
export class PostgresReceipts implements Receipts {
  constructor(private readonly pool: pg.Pool) {}

  async seen(consumer: string, eventId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM worker_receipts WHERE consumer = $1 AND event_id = $2', [consumer, eventId])
    return (rowCount ?? 0) > 0
  }

  async record(consumer: string, eventId: string): Promise<void> {
    await this.pool.query('INSERT INTO worker_receipts (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [consumer, eventId])
  }

  async prune(before: Date): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM worker_receipts WHERE processed_at < $1', [before])
    return rowCount ?? 0
  }
}
