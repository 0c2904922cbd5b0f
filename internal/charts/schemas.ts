import { Type, type Static } from 'typebox'

const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'UTC calendar day, YYYY-MM-DD' })
const Rate = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
  description: 'Share of the deliveries whose package had an estimatedDelivery that arrived on or before that day; null when none had one',
})

export const RangeQuery = Type.Object(
  { from: Day, to: Type.String({ ...Day, description: 'Last day, included; at most 366 days from `from`, both included' }) },
  { additionalProperties: false },
)
export type RangeQuery = Static<typeof RangeQuery>

export const OrdersByDay = Type.Object({
  items: Type.Array(
    Type.Object({
      day: Day,
      created: Type.Integer({ description: 'Packages created (orders; followed carrier numbers are not)' }),
      delivered: Type.Integer(),
      failedAttempts: Type.Integer(),
      exceptions: Type.Integer(),
      onTimeRate: Rate,
    }),
  ),
})

export const DriverMetrics = Type.Object({
  items: Type.Array(
    Type.Object({
      driverId: Type.String({ format: 'uuid' }),
      name: Type.Union([Type.String(), Type.Null()], { description: 'null when the account is gone' }),
      delivered: Type.Integer(),
      medianAcceptToDeliveredS: Type.Union([Type.Integer(), Type.Null()], {
        description: 'Median seconds from accepting the assignment to delivering, over the deliveries that had an accepted assignment; null when none did',
      }),
      onTimeRate: Rate,
    }),
  ),
})
