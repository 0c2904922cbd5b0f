import type pg from 'pg'
import type { PackageStatus } from '../package/domain.js'
import { lastLocationAdvances } from '../package/postgres-rows.js'
import type { HistoryWindow, LocationBatch, LocationPoint, NearbyHit, NearbyQuery, StoredLocation } from './domain.js'
import { newest } from './domain.js'
import type { LastLocationStore, LocationRepository, PackageDirectory, RecordResult } from './ports.js'

// One round trip per batch: the points go in through unnest (duplicates skipped by
// the (device_id, recorded_at) key) and the package's last location moves in the
// same statement, only forward (the rule of package/entity.ts). Data-modifying CTEs
// run whether or not they are read.
const RECORD = `
WITH ins AS (
  INSERT INTO locations (device_id, package_id, recorded_at, lat, lng, accuracy_m, speed_mps, heading_deg)
  SELECT $1, $2, b.* FROM unnest($3::timestamptz[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[]) AS b
  ON CONFLICT (device_id, recorded_at) DO NOTHING
  RETURNING 1
), moved AS (
  UPDATE packages SET last_lat = $9, last_lng = $10, last_recorded_at = $11
  WHERE id = $2 AND deleted_at IS NULL AND ${lastLocationAdvances('$11::timestamptz')}
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins)::int AS accepted, (SELECT count(*) FROM moved)::int AS moved`

const ADVANCE = `UPDATE packages SET last_lat = $2, last_lng = $3, last_recorded_at = $4
  WHERE id = $1 AND deleted_at IS NULL AND ${lastLocationAdvances('$4::timestamptz')}`

// earth_box(...) @> ll_to_earth_safe(...) matches the GiST index of migration 0003
// (a cube around the centre, so it works across the antimeridian and at the poles);
// earth_distance then keeps the exact circle. Extension objects are schema-qualified.
const NEARBY = `
SELECT id, tracking_number, last_lat, last_lng, last_recorded_at, distance_m FROM (
  SELECT p.id, p.tracking_number, p.last_lat, p.last_lng, p.last_recorded_at,
         public.earth_distance(public.ll_to_earth($1, $2), public.ll_to_earth(p.last_lat, p.last_lng)) AS distance_m
  FROM packages p
  WHERE p.last_lat IS NOT NULL AND p.deleted_at IS NULL
    AND public.earth_box(ll_to_earth_safe($1, $2), $3) OPERATOR(public.@>) ll_to_earth_safe(p.last_lat, p.last_lng)
) near
WHERE distance_m <= $3
ORDER BY distance_m, id
LIMIT $4`

// Array parameters are sent as ready-made array literals: pg's generic array
// encoding makes a call and an escape per element, and ISO timestamps and JS
// numbers never need quoting inside an array literal.
const numbers = (values: Array<number | undefined>) => `{${values.map((v) => (v === undefined ? 'NULL' : String(v))).join(',')}}`
const times = (values: Date[]) => `{${values.map((d) => d.toISOString()).join(',')}}`

interface HistoryRow {
  device_id: string
  recorded_at: Date
  lat: number
  lng: number
  accuracy_m: number | null
  speed_mps: number | null
  heading_deg: number | null
}

/** Locations in PostgreSQL; the last position is the package row's last_* columns. */
export class PostgresLocationRepository implements LocationRepository {
  constructor(private readonly pool: pg.Pool) {}

  async record(batch: LocationBatch): Promise<RecordResult> {
    const { points } = batch
    const last = newest(points)
    // Named: each connection parses and plans the statement once, later batches only bind.
    const { rows } = await this.pool.query<{ accepted: number; moved: number }>({ name: 'location_record', text: RECORD, values: [
      batch.deviceId,
      batch.packageId,
      times(points.map((p) => p.recordedAt)),
      numbers(points.map((p) => p.lat)),
      numbers(points.map((p) => p.lng)),
      numbers(points.map((p) => p.accuracyM)),
      numbers(points.map((p) => p.speedMps)),
      numbers(points.map((p) => p.headingDeg)),
      last.lat,
      last.lng,
      last.recordedAt.toISOString(),
    ] })
    const accepted = rows[0]!.accepted
    return { accepted, duplicates: points.length - accepted, advanced: rows[0]!.moved > 0 }
  }

  async history(packageId: string, window: HistoryWindow): Promise<StoredLocation[]> {
    const values: unknown[] = [packageId, window.limit]
    let where = 'package_id = $1'
    if (window.since) where += ` AND recorded_at >= $${values.push(window.since.toISOString())}`
    if (window.until) where += ` AND recorded_at < $${values.push(window.until.toISOString())}`
    const { rows } = await this.pool.query<HistoryRow>(
      `SELECT device_id, recorded_at, lat, lng, accuracy_m, speed_mps, heading_deg FROM locations
       WHERE ${where} ORDER BY recorded_at DESC, device_id LIMIT $2`,
      values,
    )
    return rows.map((r) => {
      const item: StoredLocation = { lat: r.lat, lng: r.lng, recordedAt: r.recorded_at, deviceId: r.device_id }
      if (r.accuracy_m !== null) item.accuracyM = r.accuracy_m
      if (r.speed_mps !== null) item.speedMps = r.speed_mps
      if (r.heading_deg !== null) item.headingDeg = r.heading_deg
      return item
    })
  }

  async nearby(q: NearbyQuery): Promise<NearbyHit[]> {
    const { rows } = await this.pool.query<{ id: string; tracking_number: string; last_lat: number; last_lng: number; last_recorded_at: Date; distance_m: number }>(
      NEARBY,
      [q.lat, q.lng, q.radiusM, q.limit],
    )
    return rows.map((r) => ({
      packageId: r.id,
      trackingNumber: r.tracking_number,
      lat: r.last_lat,
      lng: r.last_lng,
      recordedAt: r.last_recorded_at,
      distanceM: r.distance_m,
    }))
  }
}

/** packages.last_*, for when the location history lives in MongoDB. */
export class PostgresLastLocationStore implements LastLocationStore {
  constructor(private readonly pool: pg.Pool) {}

  async advance(packageId: string, point: LocationPoint): Promise<boolean> {
    const { rowCount } = await this.pool.query(ADVANCE, [packageId, point.lat, point.lng, point.recordedAt.toISOString()])
    return rowCount === 1
  }
}

export class PostgresPackageDirectory implements PackageDirectory {
  constructor(private readonly pool: pg.Pool) {}

  async summaries(ids: string[]): Promise<Map<string, { trackingNumber: string; status: PackageStatus }>> {
    if (ids.length === 0) return new Map()
    const { rows } = await this.pool.query<{ id: string; tracking_number: string; status: PackageStatus }>(
      'SELECT id, tracking_number, status FROM packages WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL',
      [ids],
    )
    return new Map(rows.map((r) => [r.id, { trackingNumber: r.tracking_number, status: r.status }]))
  }
}
