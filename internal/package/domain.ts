import { randomBytes } from 'node:crypto'
import { AppError, invalid } from '../platform/errors.js'

export const STATUSES = [
  'pending',
  'info_received',
  'in_transit',
  'out_for_delivery',
  'failed_attempt',
  'available_for_pickup',
  'exception',
  'delivered',
  'returned',
  'cancelled',
  'expired',
] as const
export type PackageStatus = (typeof STATUSES)[number]

/** The contract's transition table. Terminal statuses allow nothing. */
export const TRANSITIONS: Readonly<Record<PackageStatus, readonly PackageStatus[]>> = {
  pending: ['info_received', 'in_transit', 'exception', 'cancelled', 'expired'],
  info_received: ['in_transit', 'exception', 'cancelled', 'expired'],
  in_transit: ['in_transit', 'out_for_delivery', 'available_for_pickup', 'exception', 'returned'],
  out_for_delivery: ['delivered', 'failed_attempt', 'in_transit', 'available_for_pickup', 'exception'],
  failed_attempt: ['out_for_delivery', 'in_transit', 'available_for_pickup', 'returned', 'exception'],
  available_for_pickup: ['delivered', 'returned', 'exception'],
  exception: ['in_transit', 'out_for_delivery', 'available_for_pickup', 'returned', 'cancelled'],
  delivered: [],
  returned: [],
  cancelled: [],
  expired: [],
}

export const isTerminal = (s: PackageStatus): boolean => TRANSITIONS[s].length === 0

export function canTransition(from: PackageStatus, to: PackageStatus): boolean {
  return TRANSITIONS[from].includes(to)
}

/**
 * Checks a status change. `force` (admins only, checked by the caller) allows any
 * change except to the same terminal status; the event records that it was forced.
 */
export function checkTransition(from: PackageStatus, to: PackageStatus, force: boolean): { forced: boolean } {
  if (canTransition(from, to)) return { forced: false }
  if (force && !(from === to && isTerminal(from))) return { forced: true }
  throw new AppError(
    'conflict',
    'invalid_transition',
    isTerminal(from)
      ? `package is ${from}, a final status; it cannot become ${to}`
      : `cannot go from ${from} to ${to}; allowed: ${TRANSITIONS[from].join(', ')}`,
  )
}

export const TRACKING_NUMBER = /^[A-Z0-9]{8,30}$/

/** Trims and upper-cases, then validates; throws validation_failed naming `path`. */
export function normalizeTrackingNumber(raw: string, path = '/trackingNumber'): string {
  const tn = raw.trim().toUpperCase()
  if (!TRACKING_NUMBER.test(tn)) throw invalid(path, 'must be 8 to 30 letters A-Z or digits')
  return tn
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** Luhn mod 32 over the base32 alphabet: catches every single-character typo and most swaps. */
export function checkChar(body: string): string {
  let sum = 0
  let double = true
  for (let i = body.length - 1; i >= 0; i--) {
    let v = BASE32.indexOf(body[i]!)
    if (v < 0) throw new Error(`not base32: ${body[i]}`)
    if (double) {
      v *= 2
      v = Math.floor(v / 32) + (v % 32)
    }
    sum += v
    double = !double
  }
  return BASE32[(32 - (sum % 32)) % 32]!
}

/** `DT` + 10 random base32 characters + 1 check character (13 in all). */
export function generateTrackingNumber(): string {
  const bytes = randomBytes(10)
  let body = ''
  for (const b of bytes) body += BASE32[b & 31]
  return `DT${body}${checkChar(body)}`
}

/** True for a well-formed generated number (the check character matches). */
export function isGeneratedTrackingNumber(tn: string): boolean {
  return /^DT[A-Z2-7]{11}$/.test(tn) && checkChar(tn.slice(2, 12)) === tn[12]
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

/** How fast an order goes: the dispatcher and the price follow it. */
export const DELIVERY_OPTIONS = ['standard', 'express', 'same_day'] as const
export type DeliveryOption = (typeof DELIVERY_OPTIONS)[number]

export const PAYMENT_STATUSES = ['not_required', 'pending', 'paid', 'refunded'] as const
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number]

/** A line of an order. */
export interface OrderItem {
  description: string
  quantity: number
  sku?: string
  weightGrams?: number
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
  estimatedDelivery?: Date
  driverId?: string
  /** The customer who owns it: they, staff and the assigned driver see it in full. */
  customerId?: string
  /** Registered by a customer with a carrier (POST /me/trackings): nobody owns it. */
  external?: true
  deliveryOption: DeliveryOption
  paymentStatus: PaymentStatus
  items?: OrderItem[]
  lastLocation?: { lat: number; lng: number; recordedAt: Date }
  version: number
  /** The package's current durable event seq. */
  seq: number
  createdAt: Date
  updatedAt: Date
}

/** The fields a new package is created with. */
export type NewPackage = Omit<Package, 'id' | 'status' | 'lastLocation' | 'version' | 'seq' | 'createdAt' | 'updatedAt' | 'deliveryOption' | 'paymentStatus'> &
  Partial<Pick<Package, 'deliveryOption' | 'paymentStatus'>>

export interface StatusChange {
  status: PackageStatus
  note?: string
  location?: { lat: number; lng: number; city?: string }
  occurredAt?: Date
  force?: boolean
}

/** Detail fields an admin may change with PATCH. */
export interface PackagePatch {
  carrier?: string
  description?: string | null
  weightGrams?: number | null
  sender?: Party
  recipient?: Party
  origin?: GeoPoint | null
  destination?: GeoPoint | null
  estimatedDelivery?: Date | null
  driverId?: string | null
  customerId?: string | null
  deliveryOption?: DeliveryOption
  paymentStatus?: PaymentStatus
  items?: OrderItem[] | null
}

export const versionMismatch = (current: number) =>
  new AppError('precondition', 'version_mismatch', `package is at version ${current}; reload it and try again`)
