import { MongoBulkWriteError, MongoServerError, type Collection, type Db } from 'mongodb'
import type { HistoryWindow, LocationBatch, LocationPoint, NearbyHit, NearbyQuery, StoredLocation } from './domain.js'
import { newest } from './domain.js'
import type { LocationRepository, RecordResult } from './ports.js'

interface GeoJsonPoint {
  type: 'Point'
  /** GeoJSON order: longitude first. */
  coordinates: [number, number]
}

/** One point; the compound _id makes (device, recordedAt) unique without another index. */
interface HistoryDoc {
  _id: { deviceId: string; recordedAt: Date }
  packageId: string
  recordedAt: Date
  loc: GeoJsonPoint
  accuracyM?: number
  speedMps?: number
  headingDeg?: number
}

/** A package's last position, for $geoNear. */
interface PositionDoc {
  _id: string
  trackingNumber: string
  loc: GeoJsonPoint
  recordedAt: Date
}

const DUPLICATE_KEY = 11000
const point = (p: LocationPoint): GeoJsonPoint => ({ type: 'Point', coordinates: [p.lng, p.lat] })
const isDuplicateKey = (err: unknown) => err instanceof MongoServerError && err.code === DUPLICATE_KEY

/**
 * Locations in MongoDB: history in `locations` (indexed by package and time),
 * last positions in `package_positions` (2dsphere, for $geoNear). Use open(),
 * which creates the indexes, rather than the constructor.
 */
export class MongoLocationRepository implements LocationRepository {
  private constructor(
    private readonly points: Collection<HistoryDoc>,
    private readonly positions: Collection<PositionDoc>,
  ) {}

  static async open(db: Db): Promise<MongoLocationRepository> {
    const points = db.collection<HistoryDoc>('locations')
    const positions = db.collection<PositionDoc>('package_positions')
    // Serves history's filter and its whole sort (newest first, ties by device), so a long history is never sorted in memory.
    await points.createIndex({ packageId: 1, recordedAt: -1, '_id.deviceId': 1 }, { name: 'package_time' })
    await positions.createIndex({ loc: '2dsphere' }, { name: 'loc_2dsphere' })
    return new MongoLocationRepository(points, positions)
  }

  async record(batch: LocationBatch): Promise<RecordResult> {
    const docs: HistoryDoc[] = batch.points.map((p) => {
      const doc: HistoryDoc = { _id: { deviceId: batch.deviceId, recordedAt: p.recordedAt }, packageId: batch.packageId, recordedAt: p.recordedAt, loc: point(p) }
      if (p.accuracyM !== undefined) doc.accuracyM = p.accuracyM
      if (p.speedMps !== undefined) doc.speedMps = p.speedMps
      if (p.headingDeg !== undefined) doc.headingDeg = p.headingDeg
      return doc
    })
    let accepted: number
    try {
      accepted = (await this.points.insertMany(docs, { ordered: false })).insertedCount
    } catch (err) {
      // Unordered: every new point is in; the errors are exactly the duplicates.
      const errors = err instanceof MongoBulkWriteError ? [err.writeErrors].flat() : []
      if (!(err instanceof MongoBulkWriteError) || errors.length === 0 || errors.some((e) => e.code !== DUPLICATE_KEY)) throw err
      accepted = err.insertedCount
    }
    const advanced = await this.advance(batch.packageId, batch.trackingNumber, newest(batch.points))
    return { accepted, duplicates: batch.points.length - accepted, advanced }
  }

  /** Moves the position forward only; an upsert that loses an insert race is retried once as an update. */
  private async advance(packageId: string, trackingNumber: string, p: LocationPoint): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const r = await this.positions.updateOne(
          { _id: packageId, recordedAt: { $lt: p.recordedAt } },
          { $set: { trackingNumber, loc: point(p), recordedAt: p.recordedAt } },
          { upsert: true },
        )
        return r.modifiedCount + r.upsertedCount > 0
      } catch (err) {
        // The package already has a position at least as new (the filter missed, the upsert collided).
        if (!isDuplicateKey(err)) throw err
      }
    }
    return false
  }

  async history(packageId: string, window: HistoryWindow): Promise<StoredLocation[]> {
    const recordedAt: { $gte?: Date; $lt?: Date } = {}
    if (window.since) recordedAt.$gte = window.since
    if (window.until) recordedAt.$lt = window.until
    const filter = window.since || window.until ? { packageId, recordedAt } : { packageId }
    const docs = await this.points.find(filter).sort({ recordedAt: -1, '_id.deviceId': 1 }).limit(window.limit).toArray()
    return docs.map((d) => {
      const item: StoredLocation = { lat: d.loc.coordinates[1], lng: d.loc.coordinates[0], recordedAt: d.recordedAt, deviceId: d._id.deviceId }
      if (d.accuracyM !== undefined) item.accuracyM = d.accuracyM
      if (d.speedMps !== undefined) item.speedMps = d.speedMps
      if (d.headingDeg !== undefined) item.headingDeg = d.headingDeg
      return item
    })
  }

  async nearby(q: NearbyQuery): Promise<NearbyHit[]> {
    const docs = await this.positions
      .aggregate<PositionDoc & { distanceM: number }>([
        { $geoNear: { near: { type: 'Point', coordinates: [q.lng, q.lat] }, key: 'loc', spherical: true, maxDistance: q.radiusM, distanceField: 'distanceM' } },
        { $limit: q.limit },
        { $sort: { distanceM: 1, _id: 1 } },
      ])
      .toArray()
    return docs.map((d) => ({
      packageId: d._id,
      trackingNumber: d.trackingNumber,
      lat: d.loc.coordinates[1],
      lng: d.loc.coordinates[0],
      recordedAt: d.recordedAt,
      distanceM: d.distanceM,
    }))
  }
}
