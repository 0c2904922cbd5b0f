// Which driver to offer a package to: how far each one is from the package and how
// much they already carry.

export interface Point {
  lat: number
  lng: number
}

const EARTH_RADIUS_KM = 6371.0088
const rad = (deg: number) => (deg * Math.PI) / 180

/** Great-circle distance in km (haversine). */
export function distanceKm(a: Point, b: Point): number {
  const dLat = rad(b.lat - a.lat)
  const dLng = rad(b.lng - a.lng)
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)))
}

/** "850 m", "12.3 km", "412 km"; "no position" when either end is unknown. */
export function formatDistance(km: number | undefined): string {
  if (km === undefined) return 'no position'
  if (km < 1) return `${Math.round(km * 1000)} m`
  return km < 100 ? `${km.toFixed(1)} km` : `${Math.round(km)} km`
}

export interface Candidate<D> {
  driver: D
  km?: number
}

/**
 * Drivers with a known position first, nearest first; a load difference of one
 * package outweighs 5 km. Then those without a position, least loaded first.
 */
export function rankDrivers<D extends { name: string; activeAssignments: number; lastLocation?: Point }>(drivers: D[], from: Point | undefined): Array<Candidate<D>> {
  const withKm = drivers.map((driver) => ({ driver, km: from && driver.lastLocation ? distanceKm(from, driver.lastLocation) : undefined }))
  const score = (c: Candidate<D>) => (c.km === undefined ? Number.POSITIVE_INFINITY : c.km + 5 * c.driver.activeAssignments)
  return withKm.sort((a, b) => score(a) - score(b) || a.driver.activeAssignments - b.driver.activeAssignments || a.driver.name.localeCompare(b.driver.name))
}
