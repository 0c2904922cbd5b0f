// Cities, great-circle geometry and the legs of a simulated delivery trip.

export interface City {
  name: string
  lat: number
  lng: number
}

/** Real city centres (WGS84). */
export const CITIES: City[] = [
  { name: 'Berlin', lat: 52.52, lng: 13.405 },
  { name: 'Hamburg', lat: 53.5511, lng: 9.9937 },
  { name: 'Munich', lat: 48.1351, lng: 11.582 },
  { name: 'Cologne', lat: 50.9375, lng: 6.9603 },
  { name: 'Frankfurt', lat: 50.1109, lng: 8.6821 },
  { name: 'Leipzig', lat: 51.3397, lng: 12.3731 },
  { name: 'Hanover', lat: 52.3759, lng: 9.732 },
  { name: 'Nuremberg', lat: 49.4521, lng: 11.0767 },
  { name: 'Stuttgart', lat: 48.7758, lng: 9.1829 },
  { name: 'Amsterdam', lat: 52.3676, lng: 4.9041 },
  { name: 'Brussels', lat: 50.8503, lng: 4.3517 },
  { name: 'Paris', lat: 48.8566, lng: 2.3522 },
  { name: 'Lyon', lat: 45.764, lng: 4.8357 },
  { name: 'Vienna', lat: 48.2082, lng: 16.3738 },
  { name: 'Prague', lat: 50.0755, lng: 14.4378 },
  { name: 'Warsaw', lat: 52.2297, lng: 21.0122 },
  { name: 'Copenhagen', lat: 55.6761, lng: 12.5683 },
  { name: 'Zurich', lat: 47.3769, lng: 8.5417 },
  { name: 'Milan', lat: 45.4642, lng: 9.19 },
]

const R = 6_371_008.8
const rad = (d: number) => (d * Math.PI) / 180
const deg = (r: number) => (r * 180) / Math.PI

export interface LatLng {
  lat: number
  lng: number
}

export function distanceM(a: LatLng, b: LatLng): number {
  const h = Math.sin(rad(b.lat - a.lat) / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lng - a.lng) / 2) ** 2
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)))
}

export function bearingDeg(a: LatLng, b: LatLng): number {
  const y = Math.sin(rad(b.lng - a.lng)) * Math.cos(rad(b.lat))
  const x = Math.cos(rad(a.lat)) * Math.sin(rad(b.lat)) - Math.sin(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.cos(rad(b.lng - a.lng))
  return (deg(Math.atan2(y, x)) + 360) % 360
}

/** The point `metres` from `from` on the given bearing. */
export function move(from: LatLng, bearing: number, metres: number): LatLng {
  const d = metres / R
  const lat = Math.asin(Math.sin(rad(from.lat)) * Math.cos(d) + Math.cos(rad(from.lat)) * Math.sin(d) * Math.cos(rad(bearing)))
  const lng = rad(from.lng) + Math.atan2(Math.sin(rad(bearing)) * Math.sin(d) * Math.cos(rad(from.lat)), Math.cos(d) - Math.sin(rad(from.lat)) * Math.sin(lat))
  return { lat: deg(lat), lng: ((deg(lng) + 540) % 360) - 180 }
}

/** A fraction f of the way along the great circle from a to b. */
export function interpolate(a: LatLng, b: LatLng, f: number): LatLng {
  return move(a, bearingDeg(a, b), distanceM(a, b) * f)
}

/**
 * A road-like polyline from a to b: the great circle bent by a couple of gentle
 * sideways swings (roads are never straight), one vertex every ~2 km.
 */
export function roadBetween(a: LatLng, b: LatLng, wiggle = 0.04): LatLng[] {
  const total = distanceM(a, b)
  const n = Math.max(2, Math.ceil(total / 2_000))
  const side = bearingDeg(a, b) + 90
  const phase = Math.random() * Math.PI
  const points: LatLng[] = []
  for (let i = 0; i <= n; i++) {
    const f = i / n
    const offset = total * wiggle * Math.sin(Math.PI * f) * Math.sin(2 * Math.PI * f + phase)
    points.push(move(interpolate(a, b, f), side, offset))
  }
  return points
}

/** A polyline walked at a speed: where you are after `metres`, and which way you face. */
export class Leg {
  private readonly cumulative: number[] = [0]
  readonly length: number

  constructor(readonly points: LatLng[], readonly speedMps: number) {
    for (let i = 1; i < points.length; i++) this.cumulative.push(this.cumulative[i - 1]! + distanceM(points[i - 1]!, points[i]!))
    this.length = this.cumulative[this.cumulative.length - 1]!
  }

  at(metres: number): LatLng & { headingDeg: number } {
    const m = Math.max(0, Math.min(this.length, metres))
    let i = 1
    while (i < this.cumulative.length - 1 && this.cumulative[i]! < m) i++
    const a = this.points[i - 1]!
    const b = this.points[i]!
    const span = this.cumulative[i]! - this.cumulative[i - 1]!
    const f = span === 0 ? 0 : (m - this.cumulative[i - 1]!) / span
    return { ...interpolate(a, b, f), headingDeg: bearingDeg(a, b) }
  }
}

export function pickTrip(rand = Math.random): { from: City; to: City } {
  for (;;) {
    const from = CITIES[Math.floor(rand() * CITIES.length)]!
    const to = CITIES[Math.floor(rand() * CITIES.length)]!
    const d = distanceM(from, to)
    if (from !== to && d > 150_000 && d < 700_000) return { from, to }
  }
}
