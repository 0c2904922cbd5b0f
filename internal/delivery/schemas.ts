import { Type } from 'typebox'
import { DateTimeOut } from '../platform/http/schemas.js'
import { ASSIGNMENT_STATES } from './domain.js'

const StateSchema = Type.Union(ASSIGNMENT_STATES.map((s) => Type.Literal(s)))

export const AssignmentSchema = Type.Object(
  {
    id: Type.String(),
    trackingNumber: Type.String(),
    driverId: Type.String(),
    state: StateSchema,
    assignedBy: Type.String({ description: 'The user or service client that offered it.' }),
    assignedAt: DateTimeOut,
    acceptedAt: Type.Optional(DateTimeOut),
    declinedAt: Type.Optional(DateTimeOut),
    completedAt: Type.Optional(DateTimeOut),
    cancelledAt: Type.Optional(DateTimeOut),
  },
  { $id: 'Assignment' },
)

export const AssignBody = Type.Object(
  {
    driverId: Type.String({ description: 'A user with the driver role.' }),
    replace: Type.Optional(Type.Boolean({ description: 'Cancel the active assignment instead of refusing; needs If-Match.' })),
  },
  { additionalProperties: false },
)

export const AssignmentList = Type.Object({ items: Type.Array(Type.Ref('Assignment')) })

export const MineQuery = Type.Object({ state: Type.Optional(StateSchema) }, { additionalProperties: false })

export const DriverList = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      email: Type.String(),
      activeAssignments: Type.Integer({ description: 'Offered or accepted now.' }),
      lastLocation: Type.Optional(Type.Object({ lat: Type.Number(), lng: Type.Number(), recordedAt: DateTimeOut })),
      lastSeenAt: Type.Optional(DateTimeOut),
      onShift: Type.Boolean({ description: 'On shift (PUT /me/shift): dispatch offers work only to these.' }),
    }),
  ),
})

export const ShiftBody = Type.Object({ onShift: Type.Boolean() }, { additionalProperties: false })

export const ShiftState = Type.Object({
  driverId: Type.String(),
  onShift: Type.Boolean(),
  changedAt: DateTimeOut,
})
