// The behaviour every PackageRepository must have, as one tap suite that takes a
// factory: only what the port (ports.ts) promises, through its methods.
// package-repository-postgres.test.ts and package-repository-pglite.test.ts run it.
import { randomBytes, randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { AppError } from '../platform/errors.js'
import type { NewPackage, Package, PackageStatus } from './domain.js'
import type { Actor } from '../events/actor.js'
import { attribute, createPackage, deletePackage, type Change } from './entity.js'
import type { ListFilter, PackageRepository } from './ports.js'

export interface PackageRepositoryFixture {
  repo: PackageRepository
  /** Another process's repository on the same data (a second gateway). */
  second: PackageRepository
  /** A user of the role, for driverId and trackedBy. */
  newUser(role: 'customer' | 'driver'): Promise<string>
  /** Puts the package on the user's tracking list. */
  track(userId: string, packageId: string): Promise<void>
}

export type PackageRepositoryFactory = (t: Test) => Promise<PackageRepositoryFixture>

const T0 = Date.parse('2024-06-01T00:00:00.000Z')
const at = (s: number) => new Date(T0 + s * 1000)
/** Numbers and search words unique to one test: the suite shares its database. */
const unique = (prefix: string) => `${prefix}${randomBytes(5).toString('hex').toUpperCase()}`

const minimal = (trackingNumber: string, extra: Partial<NewPackage> = {}): NewPackage => ({
  trackingNumber,
  carrier: 'test',
  sender: { name: 'Sender' },
  recipient: { name: 'Recipient' },
  ...extra,
})
const toStatus = (status: PackageStatus, note: string, s: number) => (p: Package): Change => ({
  next: { ...p, status },
  events: [{ type: 'package.status_changed', occurredAt: at(s), data: { status, previousStatus: p.status, note } }],
})
const deletion = (s: number) => (p: Package): Change => deletePackage(p, at(s))

export function packageRepositoryContract(t: Test, factory: PackageRepositoryFactory): void {
  let fx: PackageRepositoryFixture
  t.before(async () => {
    fx = await factory(t)
  })

  t.test('create: version 1 with its created event at seq 1; get and events return the same', async (t) => {
    const driverId = await fx.newUser('driver')
    const input = minimal(unique('CR'), {
      description: 'Books',
      weightGrams: 1200,
      sender: { name: 'Ann', address: '1 Main St', email: 'ann@example.com', phone: '+15550100' },
      origin: { lat: 52.52, lng: 13.405, address: 'Berlin' },
      destination: { lat: 48.137, lng: 11.575 },
      estimatedDelivery: at(86_400),
      driverId,
    })
    const result = await fx.repo.create(createPackage(input, at(1)))
    const { pkg, events } = result
    t.match(pkg, { ...input, status: 'pending', version: 1, seq: 1, createdAt: at(1), updatedAt: at(1) })
    t.same(events.map((e) => [e.type, e.seq, e.trackingNumber, e.occurredAt.getTime(), e.recordedAt.getTime(), e.data]), [
      ['package.created', 1, input.trackingNumber, at(1).getTime(), at(1).getTime(), { status: 'pending', carrier: 'test', estimatedDelivery: at(86_400).toISOString() }],
    ])
    t.same(await fx.repo.get(input.trackingNumber), pkg, 'get returns what create returned')
    t.same(await fx.repo.events(pkg.id), events, 'the event log holds the created event')

    const bare = await fx.repo.create(createPackage(minimal(unique('CR')), at(2)))
    const got = await fx.repo.get(bare.pkg.trackingNumber)
    for (const field of ['description', 'weightGrams', 'origin', 'destination', 'estimatedDelivery', 'driverId', 'lastLocation'] as const) {
      t.notOk(got && field in got, `${field} absent when not given`)
    }
    t.equal(await fx.repo.get(unique('NONE')), null, 'an unknown number is null')
  })

  t.test('create: a number in use is a conflict; a deleted package frees its number', async (t) => {
    const tn = unique('DUP')
    const first = await fx.repo.create(createPackage(minimal(tn), at(1)))
    const err = await fx.repo.create(createPackage(minimal(tn, { carrier: 'other' }), at(2))).catch((e: unknown) => e)
    t.ok(err instanceof AppError && err.kind === 'conflict', 'conflict')
    t.match(await fx.repo.get(tn), { id: first.pkg.id, carrier: 'test', version: 1 }, 'the first package is untouched')
    t.same((await fx.repo.events(first.pkg.id)).map((e) => e.seq), [1])

    await fx.repo.update(tn, deletion(3), at(3))
    t.equal(await fx.repo.get(tn), null, 'a deleted package is gone')
    const again = await fx.repo.create(createPackage(minimal(tn), at(4)))
    t.not(again.pkg.id, first.pkg.id, 'a new package')
    t.match(again.pkg, { version: 1, seq: 1 })
    t.same((await fx.repo.events(first.pkg.id)).map((e) => [e.seq, e.type]), [[1, 'package.created'], [2, 'package.deleted']], 'the deleted one keeps its history')
  })

  t.test('update: state and events written together, seqs consecutive, version + 1', async (t) => {
    const driverId = await fx.newUser('driver')
    const { pkg } = await fx.repo.create(createPackage(minimal(unique('UP'), { description: 'old', weightGrams: 10 }), at(1)))
    const result = await fx.repo.update(pkg.trackingNumber, (p) => ({
      next: { ...p, status: 'in_transit', driverId, recipient: { name: 'Bea', address: '2 High St' }, estimatedDelivery: at(500), description: undefined, weightGrams: undefined },
      events: [
        { type: 'package.status_changed', occurredAt: at(9), data: { status: 'in_transit', previousStatus: p.status } },
        { type: 'package.assigned', occurredAt: at(9), data: { driverId } },
      ],
    }), at(10))
    t.same(result.events.map((e) => [e.type, e.seq, e.recordedAt.getTime()]), [['package.status_changed', 2, at(10).getTime()], ['package.assigned', 3, at(10).getTime()]])
    t.match(result.pkg, { status: 'in_transit', driverId, recipient: { name: 'Bea', address: '2 High St' }, estimatedDelivery: at(500), version: 2, seq: 3, updatedAt: at(10), createdAt: at(1) })
    const got = await fx.repo.get(pkg.trackingNumber)
    t.same(got, result.pkg, 'get returns the written state')
    t.notOk(got && ('description' in got || 'weightGrams' in got), 'cleared fields are gone')
    t.same((await fx.repo.events(pkg.id)).map((e) => e.seq), [1, 2, 3])
    t.same((await fx.repo.events(pkg.id, 1)).map((e) => [e.seq, e.type, e.data]), [
      [2, 'package.status_changed', { status: 'in_transit', previousStatus: 'pending' }],
      [3, 'package.assigned', { driverId }],
    ], 'events after seq 1')
    t.same(await fx.repo.events(pkg.id, 3), [], 'nothing after the last')

    const unknown = await fx.repo.update(unique('NONE'), toStatus('in_transit', 'x', 1), at(11)).catch((e: unknown) => e)
    t.ok(unknown instanceof AppError && unknown.kind === 'not_found', 'an unknown number is not_found')
  })

  t.test('events keep who caused them; events without one read back without one', async (t) => {
    const admin: Actor = { type: 'user', id: randomUUID(), role: 'admin', name: 'Ada' }
    const service: Actor = { type: 'service', id: 'shop-client', role: 'service' }
    const { pkg, events } = await fx.repo.create(attribute(createPackage(minimal(unique('AC')), at(1)), admin))
    t.same(events[0]!.actor, admin, 'create returns it')
    const moved = await fx.repo.update(pkg.trackingNumber, (p) => attribute(toStatus('in_transit', 'x', 2)(p), service), at(2))
    t.same(moved.events[0]!.actor, service, 'update returns it')
    await fx.repo.update(pkg.trackingNumber, toStatus('out_for_delivery', 'y', 3), at(3))
    const log = await fx.repo.events(pkg.id)
    t.same(log.map((e) => e.actor), [admin, service, undefined], 'the log holds each, as written')
    t.notOk('actor' in log[2]!, 'no actor: the field is absent')
  })

  t.test('update: a decision that throws writes nothing, and the error reaches the caller', async (t) => {
    const { pkg } = await fx.repo.create(createPackage(minimal(unique('AB')), at(1)))
    const refused = new AppError('conflict', 'invalid_transition', 'no')
    await t.rejects(fx.repo.update(pkg.trackingNumber, () => { throw refused }, at(2)), refused)
    t.same(await fx.repo.get(pkg.trackingNumber), pkg, 'state and version unchanged')
    t.same((await fx.repo.events(pkg.id)).map((e) => e.seq), [1], 'no event')
    const next = await fx.repo.update(pkg.trackingNumber, toStatus('in_transit', 'after', 3), at(3))
    t.match(next.pkg, { version: 2, seq: 2 }, 'the next change takes the next seq')
  })

  t.test('update: concurrent changes from two gateways all apply, none lost, seqs gap-free', async (t) => {
    const { pkg } = await fx.repo.create(createPackage(minimal(unique('CC'), { description: '' }), at(1)))
    const repos = [fx.repo, fx.second]
    const n = 20
    // Each appends its number to the description: a write decided on a stale state would drop one.
    const results = await Promise.all(Array.from({ length: n }, (_, i) =>
      repos[i % 2]!.update(pkg.trackingNumber, (p) => ({
        next: { ...p, description: `${p.description} ${i}`.trim() },
        events: [{ type: 'package.updated', occurredAt: at(2), data: { i } }],
      }), at(2)),
    ))
    const final = await fx.repo.get(pkg.trackingNumber)
    t.match(final, { version: n + 1, seq: n + 1 })
    t.same(final!.description!.split(' ').map(Number).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), 'every change applied once')
    const log = await fx.repo.events(pkg.id)
    t.same(log.map((e) => e.seq), Array.from({ length: n + 1 }, (_, i) => i + 1), 'seqs 1..21, no gap, no repeat')
    t.same(log.slice(1).map((e) => e.data.i).sort((a, b) => Number(a) - Number(b)), Array.from({ length: n }, (_, i) => i), 'one event per change')
    t.same(results.map((r) => r.events[0]!.seq).sort((a, b) => a! - b!), log.slice(1).map((e) => e.seq), 'each caller got the seq its event was stored at')

    // Status changes, the bulk of the traffic, the same way.
    const statuses = await Promise.all(Array.from({ length: n }, (_, i) => repos[i % 2]!.update(pkg.trackingNumber, toStatus('in_transit', `scan ${i}`, 3), at(3))))
    t.equal(new Set(statuses.map((r) => r.pkg.version)).size, n, 'each saw its own version')
    const after = await fx.repo.events(pkg.id, n + 1)
    t.same(after.map((e) => e.seq), Array.from({ length: n }, (_, i) => n + i + 2))
    t.same(new Set(after.map((e) => e.data.note)).size, n, 'every scan recorded once')
    t.match(await fx.repo.get(pkg.trackingNumber), { status: 'in_transit', version: 2 * n + 1, seq: 2 * n + 1 })
  })

  t.test('list: filters, newest first, cursor pages hold every package once', async (t) => {
    const word = unique('W')
    const customer = await fx.newUser('customer')
    const driver = await fx.newUser('driver')
    // Seconds apart, two in the same instant (ties are broken by id, still once each).
    const specs = [
      { s: 1, description: `${word} apples`, status: 'in_transit', tracked: true },
      { s: 2, description: `${word} pears`, driver: true },
      { s: 3, description: `${word} 100% wool`, status: 'in_transit', tracked: true, driver: true },
      { s: 3, description: `${word} plums` },
      { s: 4, description: `${word} figs`, tracked: true, deleted: true },
      { s: 5, description: `${word} kiwis`, recipient: 'Zoë Quartermaine' },
    ] as const
    const made: Package[] = []
    for (const spec of specs) {
      const { pkg } = await fx.repo.create(createPackage(minimal(unique('LS'), {
        description: spec.description,
        ...('recipient' in spec ? { recipient: { name: spec.recipient } } : {}),
        ...('driver' in spec ? { driverId: driver } : {}),
      }), at(spec.s)))
      if ('tracked' in spec) await fx.track(customer, pkg.id)
      if ('status' in spec) await fx.repo.update(pkg.trackingNumber, toStatus(spec.status, 'go', spec.s), at(spec.s))
      if ('deleted' in spec) await fx.repo.update(pkg.trackingNumber, deletion(spec.s), at(spec.s))
      made.push(pkg)
    }
    const live = made.filter((_, i) => !('deleted' in specs[i]!))
    const numbers = (pkgs: Package[]) => pkgs.map((p) => p.trackingNumber)
    const list = async (filter: Partial<ListFilter>) => numbers((await fx.repo.list({ limit: 50, ...filter })).items)
    const pick = (...idx: number[]) => numbers(idx.map((i) => made[i]!))

    const all = await list({ q: word })
    t.same(all.slice(0, 1), pick(5), 'newest first')
    t.same([...all].sort(), numbers(live).sort(), 'every live package matching, the deleted one left out')
    t.same(all.slice(3), pick(1, 0), 'older ones last')
    t.same(await list({ q: word, status: 'in_transit' }), pick(2, 0), 'by status')
    t.same(await list({ q: word.toLowerCase(), status: 'pending' }), pick(5, 3, 1), 'q ignores case')
    t.same(await list({ trackedBy: customer }), pick(2, 0), 'on the customer’s list, deleted left out')
    t.same(await list({ driverId: driver }), pick(2, 1), 'assigned to the driver')
    t.same(await list({ trackedBy: customer, driverId: driver }), pick(2), 'filters combine')
    t.same(await list({ q: `${word} 100%` }), pick(2), '% is matched literally')
    t.same(await list({ q: `${word} 1_0` }), [], '_ is matched literally')
    t.same(await list({ q: 'zoë quarter' }), pick(5), 'the recipient’s name')
    t.same(await list({ q: made[3]!.trackingNumber.slice(2) }), pick(3), 'part of the tracking number')

    const pages: string[][] = []
    let cursor: string | undefined
    do {
      const page = await fx.repo.list({ q: word, limit: 2, cursor })
      pages.push(numbers(page.items))
      cursor = page.nextCursor ?? undefined
    } while (cursor && pages.length < 10)
    t.same(pages.map((p) => p.length), [2, 2, 1], 'pages of two, then the rest')
    t.same(pages.flat(), all, 'the pages, joined, are the list: each package once, in order')
  })

  t.test('isDriver: only users with the driver role', async (t) => {
    t.equal(await fx.repo.isDriver(await fx.newUser('driver')), true)
    t.equal(await fx.repo.isDriver(await fx.newUser('customer')), false)
    t.equal(await fx.repo.isDriver('00000000-0000-4000-8000-000000000000'), false, 'an unknown id')
  })
}
