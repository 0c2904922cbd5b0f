// The "Place an order" form's rules, free of the DOM so tests run them in Node:
// what the customer typed, what is wrong with it (the API's limits, said in
// words), the order it makes, and the submission kept across a reload.

import type { ApiError } from '../api/base-query.js'
import type { DeliveryOption, NewOrder, OrderItem } from '../api/types.js'

export interface ItemDraft {
  description: string
  quantity: string
}

export interface OrderDraft {
  senderName: string
  senderAddress: string
  recipientName: string
  recipientAddress: string
  recipientEmail: string
  recipientPhone: string
  deliveryOption: DeliveryOption
  description: string
  items: ItemDraft[]
}

/** Messages by field name; items are `items.<i>.description` and `items.<i>.quantity`. */
export type OrderErrors = Record<string, string>

export const DELIVERY_CHOICES: ReadonlyArray<[DeliveryOption, string]> = [
  ['standard', 'Standard (2–4 days)'],
  ['express', 'Express (next day)'],
  ['same_day', 'Same day'],
]

export const MAX_ITEMS = 100

export const emptyItem = (): ItemDraft => ({ description: '', quantity: '1' })

export const emptyDraft = (senderName = ''): OrderDraft => ({
  senderName,
  senderAddress: '',
  recipientName: '',
  recipientAddress: '',
  recipientEmail: '',
  recipientPhone: '',
  deliveryOption: 'standard',
  description: '',
  items: [emptyItem()],
})

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const PHONE = /^\+?[0-9 ()./-]{3,40}$/

function text(errors: OrderErrors, field: string, value: string, label: string, max: number, required: boolean): void {
  const v = value.trim()
  if (!v) {
    if (required) errors[field] = `${label} is required.`
  } else if (v.length > max) errors[field] = `${label} is too long: at most ${max} characters.`
}

/** Everything wrong with the draft, by field; empty when it can be sent. */
export function validateOrder(d: OrderDraft): OrderErrors {
  const errors: OrderErrors = {}
  text(errors, 'senderName', d.senderName, 'Your name', 200, true)
  text(errors, 'senderAddress', d.senderAddress, 'The pickup address', 500, true)
  text(errors, 'recipientName', d.recipientName, "The recipient's name", 200, true)
  text(errors, 'recipientAddress', d.recipientAddress, 'The delivery address', 500, true)
  text(errors, 'description', d.description, 'The note', 1000, false)
  const email = d.recipientEmail.trim()
  if (email && (!EMAIL.test(email) || email.length > 254)) errors.recipientEmail = 'Enter an email address like name@example.com, or leave it empty.'
  const phone = d.recipientPhone.trim()
  if (phone && !PHONE.test(phone)) errors.recipientPhone = 'Enter a phone number (digits, spaces, + and dashes), or leave it empty.'
  if (d.items.length === 0) errors.items = 'Add at least one item.'
  if (d.items.length > MAX_ITEMS) errors.items = `At most ${MAX_ITEMS} items in one order.`
  d.items.forEach((item, i) => {
    text(errors, `items.${i}.description`, item.description, 'What it is', 200, true)
    const q = item.quantity.trim()
    if (!/^\d+$/.test(q) || Number(q) < 1 || Number(q) > 10_000) errors[`items.${i}.quantity`] = 'A whole number from 1 to 10000.'
  })
  return errors
}

/** The order the API gets: trimmed, optional fields left out when empty. */
export function toOrder(d: OrderDraft): NewOrder {
  const optional = (v: string) => (v.trim() ? v.trim() : undefined)
  const recipient: NewOrder['recipient'] = { name: d.recipientName.trim(), address: d.recipientAddress.trim() }
  if (optional(d.recipientEmail)) recipient.email = d.recipientEmail.trim()
  if (optional(d.recipientPhone)) recipient.phone = d.recipientPhone.trim()
  const items: OrderItem[] = d.items.map((i) => ({ description: i.description.trim(), quantity: Number(i.quantity.trim()) }))
  const order: NewOrder = { sender: { name: d.senderName.trim(), address: d.senderAddress.trim() }, recipient, deliveryOption: d.deliveryOption, items }
  if (optional(d.description)) order.description = d.description.trim()
  return order
}

const FIELD_BY_PATH: Record<string, string> = {
  '/sender/name': 'senderName',
  '/sender/address': 'senderAddress',
  '/recipient/name': 'recipientName',
  '/recipient/address': 'recipientAddress',
  '/recipient/email': 'recipientEmail',
  '/recipient/phone': 'recipientPhone',
  '/description': 'description',
  '/deliveryOption': 'deliveryOption',
  '/items': 'items',
}

/** The API's refusal as field messages; what names no field goes under `form`. */
export function serverErrors(err: ApiError): OrderErrors {
  const errors: OrderErrors = {}
  for (const d of err.details ?? []) {
    const item = /^\/items\/(\d+)\/(description|quantity)/.exec(d.path)
    const field = item ? `items.${item[1]}.${item[2]}` : FIELD_BY_PATH[d.path]
    if (field) errors[field] = `This is not accepted: ${d.message}.`
  }
  if (Object.keys(errors).length === 0) {
    errors.form = err.status === 0 || err.status >= 500 ? 'The order could not be sent. Check your connection and press “Place order” again: it will not be placed twice.' : err.message
  }
  return errors
}

/** A submission not yet confirmed: resent with the same key after a reload, so it is placed once. */
export interface PendingOrder {
  key: string
  order: NewOrder
  draft: OrderDraft
}

export const PENDING_ORDER = 'delivertrack.pendingOrder'

export function loadPending(storage: Pick<Storage, 'getItem'>): PendingOrder | undefined {
  try {
    const raw = storage.getItem(PENDING_ORDER)
    const p = raw ? (JSON.parse(raw) as PendingOrder) : undefined
    return p && typeof p.key === 'string' && p.order && p.draft ? p : undefined
  } catch {
    return undefined
  }
}

export const savePending = (storage: Pick<Storage, 'setItem'>, pending: PendingOrder) => storage.setItem(PENDING_ORDER, JSON.stringify(pending))
export const clearPending = (storage: Pick<Storage, 'removeItem'>) => storage.removeItem(PENDING_ORDER)

/**
 * The submission for this draft: the one waiting, when it is the same order (its key
 * makes a resend the same request), else a new one with a new key.
 */
export function submissionFor(draft: OrderDraft, waiting: PendingOrder | undefined, newKey: () => string): PendingOrder {
  const order = toOrder(draft)
  if (waiting && JSON.stringify(waiting.order) === JSON.stringify(order)) return { ...waiting, draft }
  return { key: newKey(), order, draft }
}
