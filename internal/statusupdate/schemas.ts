import { Type } from 'typebox'
import { STATUSES } from '../package/domain.js'
import { DateTime } from '../platform/http/schemas.js'
import { MAX_BATCH } from './domain.js'

const Status = Type.Union(STATUSES.map((s) => Type.Literal(s)))

export const UpdateSchema = Type.Object(
  {
    externalId: Type.String({ minLength: 1, maxLength: 200, description: 'Unique per client: a repeat is a duplicate and is not applied again.' }),
    trackingNumber: Type.String({ minLength: 1, maxLength: 64 }),
    status: Status,
    occurredAt: DateTime,
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    location: Type.Optional(Type.Object({ lat: Type.Number({ minimum: -90, maximum: 90 }), lng: Type.Number({ minimum: -180, maximum: 180 }), city: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
)

export const PostBody = Type.Object({ updates: Type.Array(UpdateSchema, { minItems: 1, maxItems: MAX_BATCH }) }, { additionalProperties: false })

export const Accepted = Type.Object({
  accepted: Type.Integer({ description: 'New updates, queued.' }),
  duplicates: Type.Integer({ description: 'Updates whose externalId this client had already sent (or repeated in the batch): not queued again.' }),
})

export const ExternalIdParams = Type.Object({ externalId: Type.String({ minLength: 1, maxLength: 200 }) })
export const GetQuery = Type.Object({ clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Admins: whose update (default: their own, else the newest with this externalId).' })) }, { additionalProperties: false })

export const RecordSchema = Type.Object({
  externalId: Type.String(),
  state: Type.Union([Type.Literal('queued'), Type.Literal('applied'), Type.Literal('refused')]),
  reason: Type.Optional(Type.String()),
  eventSeq: Type.Optional(Type.Integer({ description: "Seq of the package's status_changed event it wrote." })),
})
