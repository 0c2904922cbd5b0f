import t from 'tap'
import { clearPending, emptyDraft, loadPending, savePending, serverErrors, submissionFor, toOrder, validateOrder, type OrderDraft } from './order-form.js'

const filled = (): OrderDraft => ({
  ...emptyDraft('Ann'),
  senderAddress: ' 1 Home Street ',
  recipientName: 'Rita',
  recipientAddress: '2 Far Road',
  items: [{ description: 'Books', quantity: '2' }],
})

t.test('each field says what is wrong with it as it is typed', async (t) => {
  t.same(validateOrder(filled()), {}, 'a complete draft has no errors')
  const errors = validateOrder({ ...filled(), recipientName: '  ', recipientEmail: 'rita@', recipientPhone: 'call me', items: [{ description: '', quantity: '0' }, { description: 'Lamp', quantity: '2.5' }] })
  t.same(Object.keys(errors).sort(), ['items.0.description', 'items.0.quantity', 'items.1.quantity', 'recipientEmail', 'recipientName', 'recipientPhone'])
  t.match(errors.recipientName, /required/)
  t.match(errors['items.1.quantity'], /whole number/)
  t.match(validateOrder({ ...filled(), senderAddress: 'x'.repeat(501) }).senderAddress, /at most 500/)
  t.match(validateOrder({ ...filled(), items: [] }).items, /at least one/)
})

t.test('the order sent is trimmed, with empty optional fields left out', async (t) => {
  t.same(toOrder({ ...filled(), recipientEmail: ' rita@example.com ', deliveryOption: 'express' }), {
    sender: { name: 'Ann', address: '1 Home Street' },
    recipient: { name: 'Rita', address: '2 Far Road', email: 'rita@example.com' },
    deliveryOption: 'express',
    items: [{ description: 'Books', quantity: 2 }],
  })
})

t.test('a submission keeps its key for the same order, and survives a reload in storage', async (t) => {
  const store = new Map<string, string>()
  const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v), removeItem: (k: string) => void store.delete(k) }
  let n = 0
  const key = () => `key-${++n}`
  const first = submissionFor(filled(), loadPending(storage), key)
  savePending(storage, first)
  t.equal(submissionFor(filled(), loadPending(storage), key).key, 'key-1', 'a resend of the same order: the same key')
  t.equal(submissionFor({ ...filled(), recipientName: 'Other' }, loadPending(storage), key).key, 'key-2', 'a changed order: a new key')
  t.same(loadPending(storage)?.order, first.order)
  clearPending(storage)
  t.equal(loadPending(storage), undefined)
  store.set('delivertrack.pendingOrder', '{broken')
  t.equal(loadPending(storage), undefined, 'an unreadable entry is ignored')
})

t.test("the API's refusals land on their fields", async (t) => {
  t.same(serverErrors({ status: 400, code: 'validation_failed', message: 'm', details: [{ path: '/recipient/email', message: 'must match format "email"' }, { path: '/items/1/quantity', message: 'must be <= 10000' }] }), {
    recipientEmail: 'This is not accepted: must match format "email".',
    'items.1.quantity': 'This is not accepted: must be <= 10000.',
  })
  t.match(serverErrors({ status: 0, code: 'unavailable', message: 'x' }).form, /will not be placed twice/)
})
