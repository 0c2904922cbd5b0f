// The contract's statuses and transition table, mirrored from internal/package/domain.ts
// (a unit test keeps the two equal): the console offers only the allowed next statuses.

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

export const STATUS_LABELS: Readonly<Record<PackageStatus, string>> = {
  pending: 'Pending',
  info_received: 'Info received',
  in_transit: 'In transit',
  out_for_delivery: 'Out for delivery',
  failed_attempt: 'Delivery attempt failed',
  available_for_pickup: 'Ready for pickup',
  exception: 'Exception',
  delivered: 'Delivered',
  returned: 'Returned',
  cancelled: 'Cancelled',
  expired: 'Expired',
}

/** How a status reads at a glance: the badge colour. */
export type StatusTone = 'neutral' | 'progress' | 'good' | 'warn' | 'bad'

export const STATUS_TONES: Readonly<Record<PackageStatus, StatusTone>> = {
  pending: 'neutral',
  info_received: 'neutral',
  in_transit: 'progress',
  out_for_delivery: 'progress',
  failed_attempt: 'warn',
  available_for_pickup: 'good',
  exception: 'bad',
  delivered: 'good',
  returned: 'warn',
  cancelled: 'neutral',
  expired: 'neutral',
}

export const isStatus = (value: unknown): value is PackageStatus => typeof value === 'string' && (STATUSES as readonly string[]).includes(value)

export const isTerminal = (s: PackageStatus): boolean => TRANSITIONS[s].length === 0

export const statusLabel = (s: string): string => (isStatus(s) ? STATUS_LABELS[s] : s)

/** The statuses a package may move to next; with `force` (admins) any but the same terminal one. */
export function nextStatuses(from: PackageStatus, force = false): PackageStatus[] {
  if (!force) return [...TRANSITIONS[from]]
  return STATUSES.filter((s) => !(s === from && isTerminal(from)))
}
