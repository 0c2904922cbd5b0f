import { Type } from 'typebox'
import { DateTimeOut } from '../platform/http/schemas.js'

const TrackingNumber = Type.String({ minLength: 1, maxLength: 64, description: 'Trimmed and upper-cased.' })

export const DeviceSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    trackingNumber: Type.Union([Type.String(), Type.Null()], { description: 'The bound package; null when unbound.' }),
    createdAt: DateTimeOut,
    lastSeenAt: Type.Union([DateTimeOut, Type.Null()], { description: 'When the device last delivered locations (to within a few seconds).' }),
  },
  { $id: 'Device' },
)
const DeviceRef = Type.Unsafe<object>(Type.Ref('Device'))

export const CreateDeviceBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    trackingNumber: Type.Optional(TrackingNumber),
  },
  { additionalProperties: false },
)

export const CreatedDevice = Type.Object({
  device: DeviceRef,
  apiKey: Type.String({ description: 'Send as `x-api-key`. Shown once: only a hash is stored.' }),
})

export const DeviceListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
)

export const DeviceList = Type.Object({ items: Type.Array(DeviceRef), nextCursor: Type.Union([Type.String(), Type.Null()]) })

export const DeviceParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const BindBody = Type.Object(
  { trackingNumber: Type.Union([TrackingNumber, Type.Null()], { description: 'The package to report for; null unbinds.' }) },
  { additionalProperties: false },
)
