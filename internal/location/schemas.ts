import { Type } from 'typebox'
import { STATUSES } from '../package/domain.js'
import { DateTimeOut } from '../platform/http/schemas.js'
import { MAX_POINTS } from './domain.js'

const Lat = Type.Number({ minimum: -90, maximum: 90 })
const Lng = Type.Number({ minimum: -180, maximum: 180 })
const Accuracy = Type.Number({ minimum: 0, maximum: 100_000, description: 'Horizontal accuracy, metres.' })
const Speed = Type.Number({ minimum: 0, maximum: 1_000, description: 'Ground speed, metres per second.' })
const Heading = Type.Number({ minimum: 0, maximum: 360, description: 'Course over ground, degrees clockwise from north.' })

export const PointSchema = Type.Object(
  {
    lat: Lat,
    lng: Lng,
    recordedAt: Type.String({ format: 'date-time', description: 'When the device took the fix; at most 5 minutes ahead of the server. Kept to the millisecond.' }),
    accuracyM: Type.Optional(Accuracy),
    speedMps: Type.Optional(Speed),
    headingDeg: Type.Optional(Heading),
  },
  // Devices in the field cannot all be updated at once: telemetry DeliverTrack does not
  // store (altitude, battery, ...) is ignored rather than refusing the whole batch.
  { description: 'Other properties a device sends are ignored.' },
)

export const IngestBody = Type.Object(
  { points: Type.Array(PointSchema, { minItems: 1, maxItems: MAX_POINTS }) },
  { additionalProperties: false },
)

export const IngestResult = Type.Object({
  accepted: Type.Integer({ description: 'Points stored now.' }),
  duplicates: Type.Integer({ description: 'Points this device had already sent (same recordedAt).' }),
})

export const HistoryQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive.' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive: pass the oldest recordedAt you have to page back.' })),
    limit: Type.Integer({ minimum: 1, maximum: MAX_POINTS, default: 100 }),
  },
  { additionalProperties: false },
)

export const HistoryList = Type.Object({
  items: Type.Array(
    Type.Object({
      lat: Type.Number(),
      lng: Type.Number(),
      recordedAt: DateTimeOut,
      accuracyM: Type.Optional(Type.Number()),
      speedMps: Type.Optional(Type.Number()),
      headingDeg: Type.Optional(Type.Number()),
      deviceId: Type.Optional(Type.String()),
    }),
  ),
})

export const NearbyQuerySchema = Type.Object(
  {
    lat: Lat,
    lng: Lng,
    radiusM: Type.Number({ exclusiveMinimum: 0, maximum: 20_037_509, default: 10_000, description: 'Great-circle radius, metres.' }),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
)

export const NearbyList = Type.Object({
  items: Type.Array(
    Type.Object({
      trackingNumber: Type.String(),
      status: Type.Unsafe<string>({ type: 'string', enum: [...STATUSES] }),
      lat: Type.Number(),
      lng: Type.Number(),
      recordedAt: DateTimeOut,
      distanceM: Type.Number(),
    }),
  ),
})
