// Fits a package's route into an SVG box: an equirectangular projection scaled by
// the cosine of the middle latitude, so short routes keep their real shape.

export interface LatLng {
  lat: number
  lng: number
}

export interface XY {
  x: number
  y: number
}

export interface RouteShape {
  /** The travelled positions, oldest first, as an SVG polyline `points` value. */
  trail: string
  origin?: XY
  destination?: XY
  /** The newest position. */
  current?: XY
  /** Number of positions drawn. */
  count: number
}

const MIN_SPAN_DEG = 0.005

export function projector(points: LatLng[], width: number, height: number, pad: number): (p: LatLng) => XY {
  if (points.length === 0) return () => ({ x: width / 2, y: height / 2 })
  let minLat = Infinity
  let maxLat = -Infinity
  let minLng = Infinity
  let maxLng = -Infinity
  for (const p of points) {
    minLat = Math.min(minLat, p.lat)
    maxLat = Math.max(maxLat, p.lat)
    minLng = Math.min(minLng, p.lng)
    maxLng = Math.max(maxLng, p.lng)
  }
  const k = Math.max(0.01, Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180))
  const spanX = Math.max((maxLng - minLng) * k, MIN_SPAN_DEG)
  const spanY = Math.max(maxLat - minLat, MIN_SPAN_DEG)
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY)
  // Centre the drawing in the box along the axis that has room to spare.
  const offX = (width - 2 * pad - (maxLng - minLng) * k * scale) / 2
  const offY = (height - 2 * pad - (maxLat - minLat) * scale) / 2
  return (p) => ({
    x: round(pad + offX + (p.lng - minLng) * k * scale),
    y: round(pad + offY + (maxLat - p.lat) * scale),
  })
}

const round = (n: number) => Math.round(n * 10) / 10

/** The drawing of a route: `newestFirst` as the locations endpoint returns them. */
export function routeShape(newestFirst: LatLng[], origin: LatLng | undefined, destination: LatLng | undefined, width: number, height: number, pad = 24): RouteShape {
  const trail = [...newestFirst].reverse()
  const all = [...trail, ...(origin ? [origin] : []), ...(destination ? [destination] : [])]
  const project = projector(all, width, height, pad)
  const shape: RouteShape = {
    trail: trail.map((p) => project(p)).map((q) => `${q.x},${q.y}`).join(' '),
    count: trail.length,
  }
  if (origin) shape.origin = project(origin)
  if (destination) shape.destination = project(destination)
  const newest = newestFirst[0]
  if (newest) shape.current = project(newest)
  return shape
}
