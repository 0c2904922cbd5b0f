import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { principalOf } from '../auth/authenticate.js'
import { deviceOf } from '../device/api-key.js'
import { TnParams } from '../package/schemas.js'
import { responses } from '../platform/http/schemas.js'
import type { Static } from 'typebox'
import type { LocationPoint } from './domain.js'
import { HistoryList, HistoryQuery, IngestBody, IngestResult, NearbyList, NearbyQuerySchema, PointSchema } from './schemas.js'
import type { LocationService } from './service.js'

export interface LocationRoutesOptions {
  locations: LocationService
}

const bearer = [{ bearer: [] }]
const tags = ['locations']
const toDate = (s: string | undefined) => (s === undefined ? undefined : new Date(s))

// Built field by field: this runs for every point of every batch, and object rest/spread is slow in V8.
function toPoint(p: Static<typeof PointSchema>): LocationPoint {
  const point: LocationPoint = { lat: p.lat, lng: p.lng, recordedAt: new Date(p.recordedAt) }
  if (p.accuracyM !== undefined) point.accuracyM = p.accuracyM
  if (p.speedMps !== undefined) point.speedMps = p.speedMps
  if (p.headingDeg !== undefined) point.headingDeg = p.headingDeg
  return point
}

/** Location ingest (devices, x-api-key), a package's location history and the nearby search. */
export const locationRoutes: FastifyPluginAsync<LocationRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const svc = opts.locations

  app.post('/locations', {
    config: { auth: 'none', apiKey: true },
    schema: {
      tags,
      summary: 'Post a batch of positions for the device\'s bound package',
      description:
        '1 to 1000 points. A point this device already sent (same recordedAt) counts as a duplicate, not an error. ' +
        'Points may arrive out of order; the package\'s lastLocation only moves forward. ' +
        '409 conflict when the device is not bound to a package. Rate limited per key.',
      security: [{ apiKey: [] }],
      body: IngestBody,
      response: responses({ 202: IngestResult }),
    },
  }, async (request, reply) => {
    return reply.code(202).send(await svc.ingest(deviceOf(request), request.body.points.map(toPoint)))
  })

  app.get('/packages/:trackingNumber/locations', {
    schema: {
      tags,
      summary: 'Location history of a package, newest first',
      description: 'Readable by whoever may read the package (customers: tracked ones, drivers: assigned ones; others get 404).',
      security: bearer,
      params: TnParams,
      querystring: HistoryQuery,
      response: responses({ 200: HistoryList }),
    },
  }, async (request) => {
    const { since, until, limit } = request.query
    const items = await svc.history(principalOf(request), request.params.trackingNumber, { since: toDate(since), until: toDate(until), limit })
    return { items }
  })

  app.get('/locations/nearby', {
    config: { roles: ['admin', 'operator'] },
    schema: {
      tags,
      summary: 'Packages whose last location is within radiusM of a point, nearest first',
      security: bearer,
      querystring: NearbyQuerySchema,
      response: responses({ 200: NearbyList }),
    },
  }, async (request) => ({ items: await svc.nearby(request.query) }))
}
