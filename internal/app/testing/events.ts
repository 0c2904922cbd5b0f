import { randomUUID } from 'node:crypto'
import type { Principal } from '../../auth/domain.js'
import type { TestGateway } from '../../app/testing/gateway.js'

const admin: Principal = { id: randomUUID(), role: 'admin', kind: 'user' }

/**
 * Real package events through the gateway's service (and so its outbox relay):
 * per package a `package.created` and a located `package.status_changed`, and
 * every third package also goes out for delivery.
 */
export async function makeEvents(gw: TestGateway, packages: number): Promise<string[]> {
  const numbers: string[] = []
  for (let i = 0; i < packages; i++) {
    const pkg = await gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: `R${i}`, email: `r${i}@example.com` } })
    await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'in_transit', note: `left depot ${i}`, location: { lat: 52.5 + i / 1000, lng: 13.4, city: 'Berlin' } })
    if (i % 3 === 0) await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'out_for_delivery' })
    numbers.push(pkg.trackingNumber)
  }
  return numbers
}

export interface LoggedEvent {
  id: string
  type: string
  tracking_number: string
  seq: number
  occurred_at: Date
  recorded_at: Date
  data: Record<string, unknown>
  actor: Record<string, unknown> | null
  request_id: string | null
  published: boolean
}

/** The package event log, the archive's source of truth. */
export async function eventLog(gw: TestGateway): Promise<LoggedEvent[]> {
  const { rows } = await gw.pool.query<LoggedEvent>(
    'SELECT id, type, tracking_number, seq, occurred_at, recorded_at, data, actor, request_id, published_at IS NOT NULL AS published FROM package_events ORDER BY recorded_at, seq',
  )
  return rows
}

/** Resolves when the outbox relay has published every logged event. */
export async function allPublished(gw: TestGateway): Promise<boolean> {
  const { rows } = await gw.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM package_events WHERE published_at IS NULL')
  return rows[0]!.n === 0
}
