import { Type } from 'typebox'
import { DateTimeOut } from '../platform/http/schemas.js'
import { WEBHOOK_EVENT_TYPES } from './domain.js'

const EventType = Type.Union(WEBHOOK_EVENT_TYPES.map((t) => Type.Literal(t)))

export const CreateWebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 8, maxLength: 2000, description: 'http(s) URL; private, loopback and link-local addresses are refused.' }),
    events: Type.Array(EventType, { minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length, uniqueItems: true, description: 'Event types to receive; "*" for all.' }),
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 200, description: 'Signing secret; generated when absent.' })),
  },
  { additionalProperties: false },
)

export const WebhookSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    url: Type.String(),
    events: Type.Array(Type.String()),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    disabledAt: Type.Union([DateTimeOut, Type.Null()]),
    consecutiveFailures: Type.Integer(),
    createdAt: DateTimeOut,
  },
  { $id: 'Webhook' },
)

export const CreatedWebhook = Type.Object({
  ...WebhookSchema.properties,
  secret: Type.String({ description: 'Shown once: verify x-delivertrack-signature with it.' }),
})

export const WebhookList = Type.Object({ items: Type.Array(Type.Ref('Webhook')), nextCursor: Type.Union([Type.String(), Type.Null()]) })

export const PageQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
)

export const WebhookParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

const AttemptSchema = Type.Object({
  attempt: Type.Integer({ minimum: 1 }),
  statusCode: Type.Union([Type.Integer(), Type.Null()], { description: 'null when no HTTP answer came (network error, timeout, refused address)' }),
  latencyMs: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  attemptedAt: DateTimeOut,
})

export const DeliveryList = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      eventId: Type.String(),
      eventType: Type.String(),
      status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('dead')]),
      attempts: Type.Array(AttemptSchema),
      createdAt: DateTimeOut,
      updatedAt: DateTimeOut,
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})
