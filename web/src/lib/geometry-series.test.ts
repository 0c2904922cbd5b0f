import t from 'tap'
import { projector, routeShape } from './route-geometry.js'
import { perMinute, pushSample } from './stats-series.js'

t.test('the route fits the box, north up, keeping its shape', async (t) => {
  const berlin = { lat: 52.52, lng: 13.405 }
  const munich = { lat: 48.137, lng: 11.575 }
  const project = projector([berlin, munich], 640, 320, 24)
  const b = project(berlin)
  const m = project(munich)
  for (const p of [b, m]) {
    t.ok(p.x >= 24 && p.x <= 616 && p.y >= 24 && p.y <= 296, 'inside the padding')
  }
  t.ok(b.y < m.y, 'north is up')
  t.ok(b.x > m.x, 'east is right')
  t.equal(Math.round(m.y - b.y), 272, 'the taller side fills the height')
  const one = projector([berlin], 640, 320, 24)(berlin)
  t.same(one, { x: 320, y: 160 }, 'a single point sits in the middle')
})

t.test('a route shape: trail oldest first, the newest point is the current position', async (t) => {
  const points = [{ lat: 50, lng: 12 }, { lat: 51, lng: 12.5 }, { lat: 52, lng: 13 }] // newest first
  const shape = routeShape(points, { lat: 52.5, lng: 13.4 }, { lat: 48, lng: 11.5 }, 640, 320)
  t.equal(shape.count, 3)
  const trail = shape.trail.split(' ').map((p) => p.split(',').map(Number))
  t.same(trail.at(-1), [shape.current!.x, shape.current!.y], 'the trail ends at the current position')
  t.ok(shape.origin && shape.destination)
  t.same(routeShape([], undefined, undefined, 640, 320), { trail: '', count: 0 })
})

t.test('dashboard series: rates per minute from running totals', async (t) => {
  let s = pushSample([], { at: 0, published: 10, delivered: 0, connections: 1 })
  s = pushSample(s, { at: 30_000, published: 40, delivered: 0, connections: 2 })
  s = pushSample(s, { at: 30_000, published: 99, delivered: 0, connections: 2 })
  t.equal(s.length, 2, 'a repeated sample is not added')
  s = pushSample(s, { at: 60_000, published: 5, delivered: 0, connections: 2 })
  t.same(perMinute(s, 'published'), [60, 10], 'a counter that restarted counts from zero')
  let many: ReturnType<typeof pushSample> = []
  for (let i = 0; i < 100; i++) many = pushSample(many, { at: i, published: i, delivered: i, connections: 0 }, 10)
  t.equal(many.length, 10)
  t.equal(many[0]!.at, 90, 'keeps the newest')
})
