import { Type } from 'typebox'
import { DateTime, DateTimeOut } from '../platform/http/schemas.js'
import { DELIVERY_OPTIONS, PAYMENT_STATUSES, STATUSES } from './domain.js'

export const Lat = Type.Number({ minimum: -90, maximum: 90 })
export const Lng = Type.Number({ minimum: -180, maximum: 180 })
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max })
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Object> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()])

export const StatusSchema = Type.Union(STATUSES.map((s) => Type.Literal(s)), { $id: 'PackageStatus' })
const StatusRef = Type.Unsafe<(typeof STATUSES)[number]>(Type.Ref('PackageStatus'))

export const PartySchema = Type.Object(
  { name: Text(200), address: Type.Optional(Text(500)), email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })), phone: Type.Optional(Text(40)) },
  { additionalProperties: false },
)
export const GeoPointSchema = Type.Object({ lat: Lat, lng: Lng, address: Type.Optional(Text(500)) }, { additionalProperties: false })
const Uuid = Type.String({ format: 'uuid' })

export const DeliveryOptionSchema = Type.Union(DELIVERY_OPTIONS.map((o) => Type.Literal(o)), { description: 'How fast it goes (default standard).' })
export const PaymentStatusSchema = Type.Union(PAYMENT_STATUSES.map((s) => Type.Literal(s)), {
  description: 'Default not_required; a customer\'s order starts pending (the only value a customer may send).',
})
export const OrderItemSchema = Type.Object(
  {
    description: Text(200),
    quantity: Type.Integer({ minimum: 1, maximum: 10_000 }),
    sku: Type.Optional(Text(64)),
    weightGrams: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
  },
  { additionalProperties: false },
)
const Items = Type.Array(OrderItemSchema, { minItems: 1, maxItems: 100 })

export const PackageSchema = Type.Object(
  {
    id: Type.String(),
    trackingNumber: Type.String(),
    status: StatusRef,
    carrier: Type.String(),
    description: Type.Optional(Type.String()),
    weightGrams: Type.Optional(Type.Integer()),
    sender: PartySchema,
    recipient: PartySchema,
    origin: Type.Optional(GeoPointSchema),
    destination: Type.Optional(GeoPointSchema),
    estimatedDelivery: Type.Optional(DateTimeOut),
    driverId: Type.Optional(Type.String()),
    customerId: Type.Optional(Type.String({ description: 'The customer who owns it: they, staff and the assigned driver see the full package.' })),
    external: Type.Optional(Type.Boolean({ description: 'A number a customer registered with a carrier; nobody owns it.' })),
    deliveryOption: DeliveryOptionSchema,
    paymentStatus: PaymentStatusSchema,
    items: Type.Optional(Type.Array(OrderItemSchema)),
    lastLocation: Type.Optional(Type.Object({ lat: Type.Number(), lng: Type.Number(), recordedAt: DateTimeOut })),
    sync: Type.Optional(
      Type.Object(
        {
          provider: Type.String({ description: 'The provider that answered last ("" before the first check).' }),
          lastCheckedAt: Type.Union([DateTimeOut, Type.Null()]),
          nextCheckAt: Type.Union([DateTimeOut, Type.Null()], { description: 'Null once final or unknown at the carrier.' }),
          consecutiveFailures: Type.Integer(),
          requiresAttention: Type.Boolean(),
          notFound: Type.Boolean({ description: 'The carrier does not know the number: it is not asked again.' }),
        },
        { description: 'Carrier trackings, staff only: how the tracking is kept current.' },
      ),
    ),
    version: Type.Integer(),
    createdAt: DateTimeOut,
    updatedAt: DateTimeOut,
    view: Type.Literal('full', { default: 'full', description: 'Which shape this is: "full" (this one) or "public" (PublicPackage).' }),
  },
  { $id: 'Package' },
)
const PackageRef = Type.Unsafe<object>(Type.Ref('Package'))

export const CreatePackageBody = Type.Object(
  {
    trackingNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Trimmed and upper-cased; generated when absent.' })),
    carrier: Type.Optional(Text(100)),
    description: Type.Optional(Text(1000)),
    weightGrams: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    sender: PartySchema,
    recipient: PartySchema,
    origin: Type.Optional(GeoPointSchema),
    destination: Type.Optional(GeoPointSchema),
    estimatedDelivery: Type.Optional(DateTime),
    driverId: Type.Optional(Uuid),
    customerId: Type.Optional(Type.String({ format: 'uuid', description: 'The owning customer account (admin, service).' })),
    customerEmail: Type.Optional(Type.String({ format: 'email', maxLength: 254, description: 'The owning customer account by its email, instead of customerId (admin, service).' })),
    deliveryOption: Type.Optional(DeliveryOptionSchema),
    paymentStatus: Type.Optional(PaymentStatusSchema),
    items: Type.Optional(Items),
    mergeExternal: Type.Optional(Type.Boolean({ description: 'Admins: turn the external tracking with this number into this package (409 external_tracking otherwise).' })),
  },
  { additionalProperties: false },
)

export const PatchPackageBody = Type.Object(
  {
    carrier: Type.Optional(Text(100)),
    description: Type.Optional(Nullable(Text(1000))),
    weightGrams: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 10_000_000 }))),
    sender: Type.Optional(PartySchema),
    recipient: Type.Optional(PartySchema),
    origin: Type.Optional(Nullable(GeoPointSchema)),
    destination: Type.Optional(Nullable(GeoPointSchema)),
    estimatedDelivery: Type.Optional(Nullable(DateTime)),
    driverId: Type.Optional(Nullable(Uuid)),
    customerId: Type.Optional(Nullable(Uuid)),
    deliveryOption: Type.Optional(DeliveryOptionSchema),
    paymentStatus: Type.Optional(PaymentStatusSchema),
    items: Type.Optional(Type.Union([Items, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const StatusBody = Type.Object(
  {
    status: StatusRef,
    note: Type.Optional(Text(1000)),
    location: Type.Optional(Type.Object({ lat: Lat, lng: Lng, city: Type.Optional(Text(100)) }, { additionalProperties: false })),
    occurredAt: Type.Optional(DateTime),
    force: Type.Optional(Type.Boolean({ description: 'Admins only: override the transition table; the event records it.' })),
  },
  { additionalProperties: false },
)

export const TnParams = Type.Object({ trackingNumber: Type.String({ minLength: 1, maxLength: 64 }) })
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ pattern: '^(\\*|(W/)?"?[0-9]{1,9}"?)$', description: 'The version you last saw; 412 if the package moved on. "*" matches any version.' })),
})

export const ListQuery = Type.Object(
  {
    status: Type.Optional(StatusRef),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    customerId: Type.Optional(Type.String({ format: 'uuid', description: 'Only packages this customer owns (staff; a customer only their own).' })),
    driverId: Type.Optional(Type.String({ format: 'uuid', description: 'Only packages assigned to this driver (staff; a driver only their own).' })),
  },
  { additionalProperties: false },
)

export const PackageList = Type.Object({ items: Type.Array(PackageRef), nextCursor: Type.Union([Type.String(), Type.Null()]) })

/** Who caused an event (events/actor.ts); `name` extends the contract (docs/api-changes.md). */
export const ActorSchema = Type.Object(
  {
    type: Type.Union(['user', 'service', 'device', 'carrier', 'system'].map((t) => Type.Literal(t))),
    id: Type.Optional(Type.String()),
    role: Type.Optional(Type.String()),
    name: Type.Optional(Type.String({ description: "A user's display name when the event was recorded." })),
  },
  { additionalProperties: false, description: 'Who caused it: admins, operators and service clients only; absent on events recorded before it was kept.' },
)

export const EventSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.String(),
    trackingNumber: Type.String(),
    seq: Type.Optional(Type.Integer()),
    occurredAt: DateTimeOut,
    recordedAt: DateTimeOut,
    data: Type.Object({}, { additionalProperties: true }),
    actor: Type.Optional(ActorSchema),
    requestId: Type.Optional(Type.String({ description: 'The x-request-id of the request that caused it, when one did: admins, operators and service clients only.' })),
  },
  { $id: 'Event' },
)
export const EventList = Type.Object({ items: Type.Array(Type.Ref('Event')) })

export const PublicViewSchema = Type.Object({
  trackingNumber: Type.String(),
  status: StatusRef,
  carrier: Type.String(),
  estimatedDelivery: Type.Union([DateTimeOut, Type.Null()]),
  lastUpdatedAt: DateTimeOut,
  lastCheckedAt: Type.Optional(Type.Union([DateTimeOut, Type.Null()], { description: 'Carrier trackings only: when the carrier was last asked (null: not yet).' })),
  events: Type.Array(
    Type.Object({ status: StatusRef, occurredAt: DateTimeOut, note: Type.Optional(Type.String()), city: Type.Optional(Type.String()) }),
  ),
})

/** The public view as a tracker who neither owns nor delivers the package gets it (the /track shape plus `view`). */
export const PublicPackageSchema = Type.Object(
  {
    ...PublicViewSchema.properties,
    view: Type.Literal('public', { description: 'Which shape this is: "public" (this one) or "full" (Package).' }),
  },
  { $id: 'PublicPackage' },
)
/** A package as its reader may see it; branch on `view`. */
export const PackageReadSchema = Type.Unsafe<object>({
  oneOf: [Type.Ref('Package'), Type.Ref('PublicPackage')],
  discriminator: { propertyName: 'view' },
})

export const AddTrackingBody = Type.Object(
  {
    trackingNumber: Type.String({ minLength: 1, maxLength: 64 }),
    label: Type.Optional(Type.String({ maxLength: 200 })),
    carrier: Type.Optional(Text(100)),
  },
  { additionalProperties: false },
)
export const TrackingEntrySchema = Type.Object({
  trackingNumber: Type.String(),
  label: Type.Union([Type.String(), Type.Null()]),
  addedAt: DateTimeOut,
  lastCheckedAt: Type.Optional(Type.Union([DateTimeOut, Type.Null()], { description: 'Carrier trackings only: when the carrier was last asked (null: not yet).' })),
  package: PackageReadSchema,
})
