import type { GeoPoint, LastLocation, LocationPoint } from '../api/types.js'
import { formatDateTime } from '../lib/format.js'
import { routeShape } from '../lib/route-geometry.js'

const W = 640
const H = 320

interface RouteMapProps {
  points: LocationPoint[]
  origin?: GeoPoint
  destination?: GeoPoint
  lastLocation?: LastLocation
}

/** The route as an SVG trail between origin (A) and destination (B); no map tiles are loaded. */
export function RouteMap({ points, origin, destination, lastLocation }: RouteMapProps) {
  // The package's last location may be newer than the history (a status update with a position).
  const newest = points[0]
  const track = lastLocation && (!newest || Date.parse(lastLocation.recordedAt) > Date.parse(newest.recordedAt)) ? [lastLocation, ...points] : points
  if (track.length === 0 && !origin && !destination) {
    return <p class="muted">No positions reported yet. The route appears here as the package moves.</p>
  }
  const shape = routeShape(track, origin, destination, W, H)
  const last = track[0]
  const summary = `Route map: ${shape.count} position${shape.count === 1 ? '' : 's'}${last ? `, last reported ${formatDateTime(last.recordedAt)}` : ''}${origin?.address ? `, from ${origin.address}` : ''}${destination?.address ? ` to ${destination.address}` : ''}.`
  return (
    <figure class="route">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} class="route-svg">
        <defs>
          <pattern id="grid" width="32" height="32" patternUnits="userSpaceOnUse">
            <path d="M 32 0 L 0 0 0 32" fill="none" class="route-grid" />
          </pattern>
        </defs>
        <rect width={W} height={H} fill="url(#grid)" class="route-bg" />
        {shape.origin && shape.destination && (
          <line x1={shape.origin.x} y1={shape.origin.y} x2={shape.destination.x} y2={shape.destination.y} class="route-planned" />
        )}
        {shape.count > 1 && <polyline points={shape.trail} class="route-trail" />}
        {shape.origin && (
          <g class="route-origin" transform={`translate(${shape.origin.x} ${shape.origin.y})`}>
            <circle r="9" />
            <text y="4">A</text>
          </g>
        )}
        {shape.destination && (
          <g class="route-destination" transform={`translate(${shape.destination.x} ${shape.destination.y})`}>
            <circle r="9" />
            <text y="4">B</text>
          </g>
        )}
        {shape.current && (
          <g class="route-current" transform={`translate(${shape.current.x} ${shape.current.y})`} data-testid="current-position">
            <circle r="14" class="route-pulse" />
            <circle r="6" />
          </g>
        )}
      </svg>
      <figcaption class="route-legend">
        <span><i class="key key-origin" aria-hidden="true" /> A: {origin?.address ?? 'origin'}</span>
        <span><i class="key key-destination" aria-hidden="true" /> B: {destination?.address ?? 'destination'}</span>
        <span><i class="key key-current" aria-hidden="true" /> Last position{last ? `, ${formatDateTime(last.recordedAt)}` : ': none yet'}</span>
      </figcaption>
    </figure>
  )
}
