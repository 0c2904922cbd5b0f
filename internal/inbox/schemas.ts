import { Type } from 'typebox'
import { DateTimeOut } from '../platform/http/schemas.js'

export const NotificationSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    type: Type.String({ description: 'The event it came from: `package.status_changed`, `package.assigned`, `package.assignment_cancelled`.' }),
    title: Type.String(),
    body: Type.String(),
    trackingNumber: Type.Optional(Type.String()),
    read: Type.Boolean(),
    createdAt: DateTimeOut,
  },
  { $id: 'Notification' },
)
const NotificationRef = Type.Unsafe<object>(Type.Ref('Notification'))

export const NotificationListQuery = Type.Object(
  {
    unread: Type.Optional(Type.Boolean({ description: 'true: unread notifications only.' })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
)

export const NotificationList = Type.Object({
  items: Type.Array(NotificationRef),
  unread: Type.Integer({ minimum: 0, description: 'All of your unread notifications, not only those on this page.' }),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})

export const NotificationParams = Type.Object({ id: Type.String({ format: 'uuid' }) })
