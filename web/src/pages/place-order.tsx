import { useEffect, useRef, useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { usePlaceOrderMutation } from '../api/packages.js'
import type { DeliveryOption } from '../api/types.js'
import { useSession } from '../hooks.js'
import { navigate } from '../lib/router.js'
import {
  DELIVERY_CHOICES,
  MAX_ITEMS,
  clearPending,
  emptyDraft,
  emptyItem,
  loadPending,
  savePending,
  serverErrors,
  submissionFor,
  validateOrder,
  type OrderDraft,
  type OrderErrors,
  type PendingOrder,
} from '../lib/order-form.js'

/** How soon an order whose first send is still being answered is asked for again. */
const IN_PROGRESS_RETRY_MS = 1_000

type TextField = 'senderName' | 'senderAddress' | 'recipientName' | 'recipientAddress' | 'recipientEmail' | 'recipientPhone' | 'description'

/** "Place an order" (customers): checked as it is typed; a double click or a reload mid-submit places it once. */
export function PlaceOrder() {
  const user = useSession().user
  const [place, { isLoading }] = usePlaceOrderMutation()
  const [draft, setDraft] = useState<OrderDraft>(() => loadPending(sessionStorage)?.draft ?? emptyDraft(user?.name ?? ''))
  const [touched, setTouched] = useState<Set<string>>(new Set())
  const [refused, setRefused] = useState<OrderErrors>({})
  // Set before the first await: a second click in the same frame sees it, the button state not yet.
  const sending = useRef(false)
  const errors = validateOrder(draft)
  const shown = (field: string) => refused[field] ?? (touched.has(field) ? errors[field] : undefined)

  const send = async (submission: PendingOrder) => {
    if (sending.current) return
    sending.current = true
    savePending(sessionStorage, submission)
    try {
      const pkg = await place({ order: submission.order, key: submission.key }).unwrap()
      clearPending(sessionStorage)
      navigate(`/packages/${encodeURIComponent(pkg.trackingNumber)}`)
    } catch (err) {
      const e = err as ApiError
      if (e.status === 409 && /still in progress/.test(e.message)) {
        // The first send (before a reload) is still being answered: ask again with the same key shortly.
        sending.current = false
        setTimeout(() => void send(submission), IN_PROGRESS_RETRY_MS)
        return
      }
      // Refused for what it says: the key goes with it. Unreached: kept, so pressing again resends it.
      if (e.status >= 400 && e.status < 500) clearPending(sessionStorage)
      setRefused(serverErrors(e))
    } finally {
      sending.current = false
    }
  }

  // Reloaded while an order was on its way: send it again with its key; the API answers with the order.
  useEffect(() => {
    const waiting = loadPending(sessionStorage)
    if (waiting) void send(waiting)
  }, [])

  const edit = (field: string, change: Partial<OrderDraft>) => {
    setDraft((d) => ({ ...d, ...change }))
    setTouched((t) => new Set(t).add(field))
    setRefused(({ [field]: _gone, form: _form, ...rest }) => rest)
  }
  const editItem = (i: number, key: 'description' | 'quantity', value: string) =>
    edit(`items.${i}.${key}`, { items: draft.items.map((item, j) => (j === i ? { ...item, [key]: value } : item)) })

  const submit = (ev: SubmitEvent) => {
    ev.preventDefault()
    if (Object.keys(errors).length > 0) {
      setTouched(new Set(Object.keys(errors)))
      const first = (ev.currentTarget as HTMLFormElement).querySelector<HTMLElement>(`[name="${Object.keys(errors)[0]}"]`)
      first?.focus()
      return
    }
    void send(submissionFor(draft, loadPending(sessionStorage), () => crypto.randomUUID()))
  }

  const field = (name: TextField, label: string, opts: { optional?: boolean; type?: 'text' | 'email' | 'tel'; autoComplete?: string } = {}) => {
    const message = shown(name)
    return (
      <label class="field">
        <span>
          {label} {opts.optional && <small class="muted">(optional)</small>}
        </span>
        <input
          name={name}
          type={(opts.type ?? 'text') as 'text'}
          autoComplete={opts.autoComplete}
          value={draft[name]}
          aria-invalid={message ? 'true' : undefined}
          aria-describedby={message ? `${name}-error` : undefined}
          onInput={(e) => edit(name, { [name]: (e.currentTarget as HTMLInputElement).value })}
          onBlur={() => setTouched((t) => new Set(t).add(name))}
        />
        {message && <small id={`${name}-error`} class="field-error" role="alert">{message}</small>}
      </label>
    )
  }

  return (
    <section class="card" aria-labelledby="order-title">
      <h1 id="order-title">Place an order</h1>
      <form class="form grid-form" onSubmit={submit} noValidate>
        {field('senderName', 'Your name', { autoComplete: 'name' })}
        {field('senderAddress', 'Pickup address', { autoComplete: 'street-address' })}
        {field('recipientName', 'Recipient')}
        {field('recipientAddress', 'Delivery address')}
        {field('recipientEmail', 'Recipient email', { optional: true, type: 'email' })}
        {field('recipientPhone', 'Recipient phone', { optional: true, type: 'tel' })}
        <label class="field">
          <span>Delivery</span>
          <select name="deliveryOption" value={draft.deliveryOption} onChange={(e) => edit('deliveryOption', { deliveryOption: (e.currentTarget as HTMLSelectElement).value as DeliveryOption })}>
            {DELIVERY_CHOICES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {field('description', 'Note for the driver', { optional: true })}
        <fieldset class="field-group span-all">
          <legend>Items</legend>
          {draft.items.map((item, i) => (
            <div class="order-item" key={i}>
              <input name={`items.${i}.description`} aria-label={`Item ${i + 1}`} placeholder="What it is" value={item.description} aria-invalid={shown(`items.${i}.description`) ? 'true' : undefined} onInput={(e) => editItem(i, 'description', (e.currentTarget as HTMLInputElement).value)} />
              <input name={`items.${i}.quantity`} aria-label={`Quantity of item ${i + 1}`} inputMode="numeric" value={item.quantity} aria-invalid={shown(`items.${i}.quantity`) ? 'true' : undefined} onInput={(e) => editItem(i, 'quantity', (e.currentTarget as HTMLInputElement).value)} />
              {draft.items.length > 1 && (
                <button type="button" class="button ghost small" aria-label={`Remove item ${i + 1}`} onClick={() => edit('items', { items: draft.items.filter((_, j) => j !== i) })}>
                  Remove
                </button>
              )}
              {[shown(`items.${i}.description`), shown(`items.${i}.quantity`)].filter(Boolean).map((m) => (
                <small key={m} class="field-error" role="alert">{m}</small>
              ))}
            </div>
          ))}
          {shown('items') && <small class="field-error" role="alert">{shown('items')}</small>}
          {draft.items.length < MAX_ITEMS && (
            <button type="button" class="button secondary small" onClick={() => edit('items', { items: [...draft.items, emptyItem()] })}>
              Add item
            </button>
          )}
        </fieldset>
        {refused.form && <p class="error span-all" role="alert">{refused.form}</p>}
        <div class="actions span-all">
          <a class="button secondary" href="/">
            Cancel
          </a>
          <button type="submit" class="button" disabled={isLoading} aria-busy={isLoading}>
            {isLoading ? 'Placing order…' : 'Place order'}
          </button>
        </div>
      </form>
    </section>
  )
}
