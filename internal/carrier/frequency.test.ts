import t from 'tap'
import type { PackageStatus } from '../package/domain.js'
import { DEFAULT_FREQUENCY, intervalMinutes, nextCheckIn, pushFed, type HolidayCalendar } from './frequency.js'
import { holidayCalendar } from './holidays.js'

// 2026-12-02 is a Wednesday, 2026-12-05 a Saturday, 2026-12-25 Christmas (a Friday).
const WEDNESDAY = new Date('2026-12-02T10:00:00Z')
const SATURDAY = new Date('2026-12-05T10:00:00Z')
const CHRISTMAS = new Date('2026-12-25T15:00:00Z')
const middle = () => 0.5 // no jitter

const at = (status: PackageStatus, over: { now?: Date; estimatedDelivery?: string; failures?: number; holidays?: HolidayCalendar; pushFed?: boolean } = {}) =>
  nextCheckIn({
    status,
    estimatedDelivery: over.estimatedDelivery,
    consecutiveFailures: over.failures ?? 0,
    now: over.now ?? WEDNESDAY,
    settings: DEFAULT_FREQUENCY,
    holidays: over.holidays,
    pushFed: over.pushFed,
    random: middle,
  })

t.test('each status has its base interval; final statuses are never checked', async (t) => {
  const table: Array<[PackageStatus, number | null]> = [
    ['pending', 1440],
    ['info_received', 1440],
    ['in_transit', 120],
    ['available_for_pickup', 120],
    ['out_for_delivery', 30],
    ['exception', 60],
    ['failed_attempt', 60],
    ['delivered', null],
    ['returned', null],
    ['cancelled', null],
    ['expired', null],
  ]
  for (const [status, minutes] of table) t.equal(at(status), minutes, status)
})

t.test('the estimated delivery day caps the interval at 30 minutes', async (t) => {
  const table: Array<[PackageStatus, string | undefined, number]> = [
    ['in_transit', '2026-12-02T18:00:00Z', 30],
    ['info_received', '2026-12-02T00:00:00Z', 30],
    ['in_transit', '2026-12-03T00:00:00Z', 120],
    ['in_transit', '2026-12-01T23:59:59Z', 120],
    ['out_for_delivery', '2026-12-02T18:00:00Z', 30],
    ['in_transit', 'not a date', 120],
  ]
  for (const [status, eta, minutes] of table) t.equal(at(status, { estimatedDelivery: eta }), minutes, `${status}, due ${eta}`)
})

t.test('failures in a row double the interval, up to x16', async (t) => {
  const table: Array<[number, number]> = [[0, 120], [1, 240], [2, 480], [3, 960], [4, 1920], [5, 1920], [40, 1920]]
  for (const [failures, minutes] of table) t.equal(at('in_transit', { failures }), minutes, `${failures} failures`)
  t.equal(at('in_transit', { failures: 2, estimatedDelivery: '2026-12-02T12:00:00Z' }), 120, 'back-off applies on the delivery day too')
})

t.test('weekends and holidays stretch the interval by half', async (t) => {
  t.equal(at('in_transit', { now: SATURDAY }), 180)
  t.equal(at('in_transit', { now: new Date('2026-12-06T23:00:00Z') }), 180, 'Sunday')
  t.equal(at('in_transit', { now: new Date('2026-12-07T00:30:00Z') }), 120, 'Monday')
  const us = holidayCalendar('US')
  t.equal(at('in_transit', { now: CHRISTMAS, holidays: us }), 180, 'Christmas in the US')
  t.equal(at('in_transit', { now: CHRISTMAS }), 120, 'no calendar, no holiday')
  t.equal(at('in_transit', { now: WEDNESDAY, holidays: us }), 120, 'an ordinary day')
  t.equal(at('out_for_delivery', { now: SATURDAY, estimatedDelivery: '2026-12-05T20:00:00Z' }), 30, 'the delivery-day cap still holds')
  t.equal(holidayCalendar('XX'), undefined, 'an unknown country gives no calendar')
})

t.test('jitter spreads due times by at most 10 %', async (t) => {
  const withRandom = (r: number) => nextCheckIn({ status: 'in_transit', consecutiveFailures: 0, now: WEDNESDAY, settings: DEFAULT_FREQUENCY, random: () => r })
  t.equal(withRandom(0), 108)
  t.equal(withRandom(0.999999), 132)
  // A seeded generator: a thousand trackings added at once fall due over the whole ±10 % window.
  let seed = 42
  const lcg = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
  const perSecond = new Map<number, number>()
  const all: number[] = []
  for (let i = 0; i < 1000; i++) {
    const m = nextCheckIn({ status: 'in_transit', consecutiveFailures: 0, now: WEDNESDAY, settings: DEFAULT_FREQUENCY, random: lcg })!
    all.push(m)
    perSecond.set(Math.round(m * 60), (perSecond.get(Math.round(m * 60)) ?? 0) + 1)
  }
  t.ok(Math.min(...all) >= 108 && Math.max(...all) <= 132, 'all within ±10 %')
  t.ok(Math.min(...all) < 110 && Math.max(...all) > 130, 'spread over the whole window')
  t.ok(Math.max(...perSecond.values()) <= 6, `at most ${Math.max(...perSecond.values())} fall due in the same second`)
})

t.test('custom settings are honoured', async (t) => {
  const settings = { preShipmentMin: 600, inTransitMin: 90, outForDeliveryMin: 20, exceptionMin: 45, pushedMin: 0 }
  const of = (status: PackageStatus) => nextCheckIn({ status, consecutiveFailures: 0, now: WEDNESDAY, settings, random: middle })
  t.same([of('pending'), of('in_transit'), of('out_for_delivery'), of('exception')], [600, 90, 20, 45])
})

t.test('a tracking the provider pushes for is polled only as a safety net', async (t) => {
  const table: Array<[string, PackageStatus, Parameters<typeof at>[1], number | null]> = [
    ['in transit', 'in_transit', { pushFed: true }, 1440],
    ['out for delivery', 'out_for_delivery', { pushFed: true }, 1440],
    ['the delivery day cap gives way: the push brings the delivery', 'in_transit', { pushFed: true, estimatedDelivery: '2026-12-02T18:00:00Z' }, 1440],
    ['on a Saturday the quiet-day factor still applies above the floor', 'pending', { pushFed: true, now: SATURDAY }, 2160],
    ['failures still back off', 'in_transit', { pushFed: true, failures: 2 }, 5760],
    ['final statuses stay final', 'delivered', { pushFed: true }, null],
    ['without pushes: the status base', 'in_transit', { pushFed: false }, 120],
  ]
  for (const [name, status, over, minutes] of table) t.equal(at(status, over), minutes, name)
  const off = { ...DEFAULT_FREQUENCY, pushedMin: 0 }
  t.equal(nextCheckIn({ status: 'in_transit', consecutiveFailures: 0, now: WEDNESDAY, settings: off, pushFed: true, random: middle }), 120, 'TRACKING_PUSHED_FREQ=0 turns it off')
})

t.test('a push keeps a tracking push-fed for twice the pushed interval', async (t) => {
  const h = (n: number) => new Date(WEDNESDAY.getTime() - n * 3_600_000)
  t.equal(pushFed(undefined, WEDNESDAY, DEFAULT_FREQUENCY), false, 'never pushed')
  t.equal(pushFed(h(1), WEDNESDAY, DEFAULT_FREQUENCY), true)
  t.equal(pushFed(h(47), WEDNESDAY, DEFAULT_FREQUENCY), true, 'a quiet day between scans keeps it')
  t.equal(pushFed(h(49), WEDNESDAY, DEFAULT_FREQUENCY), false, 'two days without a push: the status schedule again')
  t.equal(pushFed(h(1), WEDNESDAY, { ...DEFAULT_FREQUENCY, pushedMin: 0 }), false, 'off')
  t.equal(intervalMinutes('in_transit', DEFAULT_FREQUENCY, true), 1440, 'reads measure overdue against the safety-net interval')
  t.equal(intervalMinutes('in_transit', DEFAULT_FREQUENCY, false), 120)
  t.equal(intervalMinutes('returned', DEFAULT_FREQUENCY, true), null)
})
