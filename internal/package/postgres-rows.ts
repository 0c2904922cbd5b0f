import type { Package } from './domain.js'

// Row mapping shared by the package repository and its batched status writer.

export interface PackageRow {
  id: string
  tracking_number: string
  status: Package['status']
  carrier: string
  description: string | null
  weight_grams: number | null
  sender: Package['sender']
  recipient: Package['recipient']
  origin: Package['origin'] | null
  destination: Package['destination'] | null
  estimated_delivery: Date | null
  driver_id: string | null
  customer_id: string | null
  external: boolean
  delivery_option: Package['deliveryOption']
  payment_status: Package['paymentStatus']
  items: Package['items'] | null
  last_lat: number | null
  last_lng: number | null
  last_recorded_at: Date | null
  version: number
  last_seq: number
  created_at: Date
  updated_at: Date
}

export function toPackage(r: PackageRow): Package {
  const pkg: Package = {
    id: r.id,
    trackingNumber: r.tracking_number,
    status: r.status,
    carrier: r.carrier,
    sender: r.sender,
    recipient: r.recipient,
    deliveryOption: r.delivery_option,
    paymentStatus: r.payment_status,
    version: r.version,
    seq: r.last_seq,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
  if (r.description !== null) pkg.description = r.description
  if (r.weight_grams !== null) pkg.weightGrams = r.weight_grams
  if (r.origin) pkg.origin = r.origin
  if (r.destination) pkg.destination = r.destination
  if (r.estimated_delivery) pkg.estimatedDelivery = r.estimated_delivery
  if (r.driver_id) pkg.driverId = r.driver_id
  if (r.customer_id) pkg.customerId = r.customer_id
  if (r.external) pkg.external = true
  if (r.items) pkg.items = r.items
  if (r.last_lat !== null && r.last_lng !== null && r.last_recorded_at) {
    pkg.lastLocation = { lat: r.last_lat, lng: r.last_lng, recordedAt: r.last_recorded_at }
  }
  return pkg
}

// Named (prepared) statements list their columns: a prepared `SELECT *` fails with
// "cached plan must not change result type" on every pooled connection once a
// migration adds a column, until the connection is replaced.
export const PACKAGE_COLUMNS =
  'id, tracking_number, status, carrier, description, weight_grams, sender, recipient, origin, destination, estimated_delivery, ' +
  'driver_id, customer_id, external, delivery_option, payment_status, items, last_lat, last_lng, last_recorded_at, version, last_seq, created_at, updated_at'

/**
 * SQL for the rule of entity.ts's locationAdvances, checked again in every
 * statement that moves a package's last location (status writes and location
 * ingest), because ingest moves it without a version: a fix recorded at `at`
 * replaces the last location only when it was recorded strictly later. `alias`
 * qualifies the packages columns (e.g. `p.`).
 */
export const lastLocationAdvances = (at: string, alias = '') => `(${alias}last_recorded_at IS NULL OR ${alias}last_recorded_at < ${at})`
