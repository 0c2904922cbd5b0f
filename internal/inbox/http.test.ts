import { randomUUID } from 'node:crypto'
import t from 'tap'
import { bearer, testGateway } from '../app/testing/gateway.js'
import { PostgresNotificationRepository } from './postgres.js'

const gw = await testGateway(t)
const repo = new PostgresNotificationRepository(gw.pool)

/** Gives the driver `n` notifications (assignment offers), oldest first. */
async function offers(driverId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await repo.fanOut({ eventId: randomUUID(), type: 'package.assigned', title: `Offer ${i}`, body: 'b', trackingNumber: `DT${i}`, audience: { kind: 'user', userId: driverId } })
  }
}

const get = (token: string, query = '') => gw.app.inject({ url: `/api/v1/me/notifications${query}`, headers: bearer(token) })
const post = (token: string, path: string) => gw.app.inject({ method: 'POST', url: `/api/v1/me/notifications${path}`, headers: bearer(token) })

t.test('list newest first with the unread count, pages by cursor, filters unread', async (t) => {
  const driver = await gw.user('driver')
  await offers(driver.id, 5)
  const first = await get(driver.token, '?limit=2')
  t.equal(first.statusCode, 200)
  const body = first.json<{ items: Array<{ id: string; title: string; read: boolean; trackingNumber: string }>; unread: number; nextCursor: string }>()
  t.same(body.items.map((i) => i.title), ['Offer 4', 'Offer 3'])
  t.match(body.items[0], { type: 'package.assigned', body: 'b', trackingNumber: 'DT4', read: false, id: /^[0-9a-f-]{36}$/, createdAt: /Z$/ })
  t.equal(body.unread, 5, 'all unread, not only this page')
  const titles: string[] = body.items.map((i) => i.title)
  for (let cursor: string | null = body.nextCursor; cursor; ) {
    const page: { items: Array<{ title: string }>; nextCursor: string | null } = (await get(driver.token, `?limit=2&cursor=${cursor}`)).json()
    titles.push(...page.items.map((i) => i.title))
    cursor = page.nextCursor
  }
  t.same(titles, ['Offer 4', 'Offer 3', 'Offer 2', 'Offer 1', 'Offer 0'], 'every one once, in order')

  t.equal((await post(driver.token, `/${body.items[1]!.id}/read`)).statusCode, 204)
  const after = (await get(driver.token, '?unread=true')).json<{ items: Array<{ title: string }>; unread: number }>()
  t.same(after.items.map((i) => i.title), ['Offer 4', 'Offer 2', 'Offer 1', 'Offer 0'], 'unread=true leaves the read one out')
  t.equal(after.unread, 4)
  t.equal((await get(driver.token, '?cursor=bm90LWEtY3Vyc29y')).statusCode, 400, 'a cursor this API did not make is a 400')
})

t.test('read is idempotent; someone else’s id is 404 and stays unread; read-all', async (t) => {
  const a = await gw.user('driver')
  const b = await gw.user('customer')
  await offers(a.id, 3)
  const items = (await get(a.token)).json<{ items: Array<{ id: string }> }>().items
  t.equal((await post(a.token, `/${items[0]!.id}/read`)).statusCode, 204)
  t.equal((await post(a.token, `/${items[0]!.id}/read`)).statusCode, 204, 'again: still 204')
  const theft = await post(b.token, `/${items[1]!.id}/read`)
  t.equal(theft.statusCode, 404)
  t.equal(theft.json().code, 'not_found')
  t.equal((await post(a.token, `/${randomUUID()}/read`)).statusCode, 404, 'an unknown id too')
  t.equal((await post(a.token, '/not-a-uuid/read')).statusCode, 400)
  t.equal((await get(a.token)).json().unread, 2, 'the other user could not mark it')

  t.equal((await post(a.token, '/read-all')).statusCode, 204)
  const all = (await get(a.token)).json<{ items: Array<{ read: boolean }>; unread: number }>()
  t.equal(all.unread, 0)
  t.ok(all.items.every((i) => i.read))
  t.same((await get(b.token)).json(), { items: [], unread: 0, nextCursor: null }, 'an empty inbox')
})

t.test('a service client has no inbox; a guest must sign in', async (t) => {
  t.equal((await get(await gw.serviceToken())).statusCode, 403)
  t.equal((await gw.app.inject({ url: '/api/v1/me/notifications' })).statusCode, 401)
})

t.test('the routes are in the OpenAPI document', async (t) => {
  const doc = (await gw.app.inject({ url: '/docs/json' })).json<{ paths: Record<string, unknown> }>()
  for (const path of ['/api/v1/me/notifications', '/api/v1/me/notifications/{id}/read', '/api/v1/me/notifications/read-all']) t.ok(doc.paths[path], path)
})
