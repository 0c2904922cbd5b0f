// The contract's shapes (shared/API.md), as the console receives them: times are RFC 3339 strings.

import type { PackageStatus } from './statuses.js'

export type Role = 'admin' | 'operator' | 'customer' | 'driver'

export interface User {
  id: string
  email: string
  name: string
  role: Role
}

export interface AuthResult {
  user: User
  accessToken: string
  refreshToken: string
}

export interface TokenPair {
  accessToken: string
  refreshToken: string
}

export interface Party {
  name: string
  address?: string
  email?: string
  phone?: string
}

export interface GeoPoint {
  lat: number
  lng: number
  address?: string
}

export interface LastLocation {
  lat: number
  lng: number
  recordedAt: string
}

export interface Package {
  id: string
  trackingNumber: string
  status: PackageStatus
  carrier: string
  description?: string
  weightGrams?: number
  sender: Party
  recipient: Party
  origin?: GeoPoint
  destination?: GeoPoint
  estimatedDelivery?: string
  driverId?: string
  /** The owning customer; they, staff and the assigned driver get the full package. */
  customerId?: string
  /** A number a customer registered with a carrier. */
  external?: boolean
  deliveryOption: DeliveryOption
  paymentStatus: PaymentStatus
  items?: OrderItem[]
  lastLocation?: LastLocation
  /** Carrier trackings, staff only: how the number is kept current. */
  sync?: CarrierSyncState
  version: number
  createdAt: string
  updatedAt: string
  view: 'full'
}

export interface CarrierSyncState {
  provider: string
  /** When the carrier was last asked (null: not yet). */
  lastCheckedAt: string | null
  nextCheckAt: string | null
  consecutiveFailures: number
  requiresAttention: boolean
  notFound?: boolean
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export type EventType =
  | 'package.created'
  | 'package.updated'
  | 'package.status_changed'
  | 'package.deleted'
  | 'package.assigned'
  | 'package.assignment_accepted'
  | 'package.assignment_declined'
  | 'package.assignment_cancelled'
  | 'package.location'
  | 'package.proof_added'
  | 'notification.created'

/** The one event envelope (WebSocket, REST event log). Durable events carry `seq`. */
export interface PackageEvent {
  id: string
  type: EventType
  trackingNumber: string
  seq?: number
  occurredAt: string
  recordedAt: string
  data: Record<string, unknown>
  /** Who caused it; only admins, operators and service clients get it (older events have none). */
  actor?: EventActor
}

export interface EventActor {
  type: 'user' | 'service' | 'device' | 'carrier' | 'system'
  id?: string
  role?: string
  name?: string
}

/** What a tracker who neither owns nor delivers a package sees of it: the /track shape. */
export interface PublicPackage extends PublicView {
  view: 'public'
}

/** A package as its reader may see it: branch on `view`. */
export type PackageRead = Package | PublicPackage

export interface TrackingEntry {
  trackingNumber: string
  label: string | null
  addedAt: string
  package: PackageRead
}

export interface LocationPoint {
  lat: number
  lng: number
  recordedAt: string
  accuracyM?: number
  speedMps?: number
  headingDeg?: number
  deviceId?: string
}

/** A fix as a driver's phone sends it (POST /me/locations): the token names the driver, no device. */
export type DriverPoint = Omit<LocationPoint, 'deviceId'>

export interface PublicEvent {
  status: PackageStatus
  occurredAt: string
  note?: string
  city?: string
}

export interface PublicView {
  trackingNumber: string
  status: PackageStatus
  carrier: string
  estimatedDelivery: string | null
  lastUpdatedAt: string
  /** Carrier trackings only: when the carrier was last asked (null: not yet). */
  lastCheckedAt?: string | null
  events: PublicEvent[]
}

export interface Device {
  id: string
  name: string
  trackingNumber: string | null
  createdAt: string
  lastSeenAt: string | null
}

export interface CreatedDevice {
  device: Device
  apiKey: string
}

export interface ServiceClientCreated {
  clientId: string
  clientSecret: string
  name?: string
  createdAt?: string
}

export interface QueueStats {
  messages: number
  consumers: number
  retrying?: number
  deadLetters?: number
}

export interface Stats {
  /** null: not read in time (named in `unknown`). */
  packages: { total: number | null; byStatus: Record<string, number> }
  websocket: { connections: number; subscriptions: number }
  events: { published: number; delivered?: number; outboxPending: number | null; outboxOldestAgeS?: number | null }
  queues: Record<string, QueueStats>
  cache: { hits: number; misses: number }
  uptimeS: number
  /** Figures the gateway could not read in time: packages, outbox, queues. */
  unknown?: string[]
}

/** The contract's error body. */
export interface ApiErrorBody {
  statusCode: number
  error: string
  code: string
  message: string
  details?: Array<{ path: string; message: string; value?: unknown }>
}

export interface NewPackage {
  trackingNumber?: string
  carrier?: string
  description?: string
  weightGrams?: number
  sender: Party
  recipient: Party
  origin?: GeoPoint
  destination?: GeoPoint
  estimatedDelivery?: string
}

export type DeliveryOption = 'standard' | 'express' | 'same_day'
export type PaymentStatus = 'not_required' | 'pending' | 'paid' | 'refunded'

export interface OrderItem {
  description: string
  quantity: number
  sku?: string
  weightGrams?: number
}

/** A customer's order (POST /packages): the number, carrier, driver and owner are ours to set. */
export interface NewOrder {
  sender: Party
  recipient: Party
  deliveryOption: DeliveryOption
  items: OrderItem[]
  description?: string
}

export interface StatusChange {
  status: PackageStatus
  note?: string
  force?: boolean
}

export interface PackageQuery {
  status?: PackageStatus
  q?: string
  cursor?: string
  limit?: number
}

export type AssignmentState = 'offered' | 'accepted' | 'declined' | 'completed' | 'cancelled'

/** An offer of a package to a driver and what became of it. */
export interface Assignment {
  id: string
  trackingNumber: string
  driverId: string
  state: AssignmentState
  assignedBy: string
  assignedAt: string
  acceptedAt?: string
  declinedAt?: string
  completedAt?: string
  cancelledAt?: string
}

export type ProofContentType = 'image/jpeg' | 'image/png' | 'image/webp'

export interface Proof {
  id: string
  kind: 'photo' | 'signature'
  contentType: ProofContentType
  sizeBytes: number
  note?: string
  uploadedBy: string | null
  uploadedAt: string
  /** A presigned GET, valid 15 minutes. */
  url: string
}
