import t from 'tap'
import { retryAfterSeconds, safeEqual } from './provider-http.js'

t.test('the wait after a 429 comes from retry-after, else the rate-limit reset, else a default', async (t) => {
  const now = Date.parse('2026-12-04T12:00:00Z')
  const table: Array<[Record<string, string>, number]> = [
    [{ 'retry-after': '7' }, 7],
    [{ 'retry-after': '0.2' }, 1],
    [{ 'retry-after': 'Fri, 04 Dec 2026 12:01:30 GMT' }, 90],
    [{ 'x-ratelimit-reset': String(now / 1000 + 3) }, 3],
    [{ 'ratelimit-reset': String(now / 1000 + 2) }, 2],
    [{ 'retry-after': 'soon' }, 60],
    [{}, 60],
  ]
  for (const [headers, seconds] of table) t.equal(retryAfterSeconds(new Headers(headers), now), seconds, JSON.stringify(headers))
})

t.test('signature comparison needs the exact value', async (t) => {
  t.ok(safeEqual('abc', 'abc'))
  t.notOk(safeEqual('abd', 'abc'))
  t.notOk(safeEqual('abcd', 'abc'), 'a longer value')
  t.notOk(safeEqual(undefined, 'abc'))
})
