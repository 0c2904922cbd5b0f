import t from 'tap'
import { addNotice, markOneRead, type Notification, type NotificationList } from './notifications.js'

const notice = (id: string, read = false): Notification => ({ id, type: 'package.status_changed', title: `DT${id} is on its way`, body: 'On its way.', trackingNumber: `DT${id}`, read, createdAt: '2026-12-04T10:00:00.000Z' })

t.test('a live notice joins the list once and counts as unread', async (t) => {
  const list: NotificationList = { items: [notice('1', true)], unread: 0, nextCursor: null }
  addNotice(list, notice('2'))
  addNotice(list, notice('2'))
  t.same(list.items.map((n) => n.id), ['2', '1'], 'newest first, no duplicate')
  t.equal(list.unread, 1, 'the bell counts it once')
})

t.test('marking one read lowers the count once', async (t) => {
  const list: NotificationList = { items: [notice('2'), notice('1')], unread: 5, nextCursor: null }
  markOneRead(list, '2')
  markOneRead(list, '2')
  t.equal(list.unread, 4, 'the count is the whole inbox: only this one is subtracted')
  t.equal(list.items[0]!.read, true)
  markOneRead(list, 'unknown')
  t.equal(list.unread, 4)
})
