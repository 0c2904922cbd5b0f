import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { principalOf } from '../auth/authenticate.js'
import { normalizeTrackingNumber } from '../package/domain.js'
import { responses } from '../platform/http/schemas.js'
import type { StatusUpdate } from './domain.js'
import { Accepted, ExternalIdParams, GetQuery, PostBody, RecordSchema } from './schemas.js'
import type { StatusUpdateService } from './service.js'

export interface StatusUpdateRoutesOptions {
  updates: StatusUpdateService
}

const security = [{ bearer: [] }]
const tags = ['status updates']
const roles = ['admin', 'service'] as const

/** POST /status-updates (batches, applied later by the workers) and GET /status-updates/:externalId. */
export const statusUpdateRoutes: FastifyPluginAsync<StatusUpdateRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const svc = opts.updates

  app.post('/status-updates', {
    config: { roles },
    schema: {
      tags,
      summary: 'Queue 1..500 status updates; 202 at once',
      description:
        'Recorded durably before the answer (also while RabbitMQ is down) and applied by the `status-updates` workers through the status route\'s rules, in occurredAt order per package. ' +
        'An update older than the package\'s latest status change is refused; an unknown tracking number is refused, not the batch. Read each outcome at GET /status-updates/:externalId.',
      security,
      body: PostBody,
      response: responses({ 202: Accepted }),
    },
  }, async (request, reply) => {
    const updates: StatusUpdate[] = request.body.updates.map((u, i) => ({ ...u, trackingNumber: normalizeTrackingNumber(u.trackingNumber, `/updates/${i}/trackingNumber`), occurredAt: new Date(u.occurredAt) }))
    return reply.code(202).send(await svc.post(principalOf(request), updates))
  })

  app.get('/status-updates/:externalId', {
    config: { roles },
    schema: {
      tags,
      summary: 'Where one of my status updates stands: queued, applied (with the event seq) or refused (with why)',
      description: 'A client reads its own updates (another client\'s: 404); an admin reads any.',
      security,
      params: ExternalIdParams,
      querystring: GetQuery,
      response: responses({ 200: RecordSchema }),
    },
  }, async (request) => svc.get(principalOf(request), request.params.externalId, request.query.clientId))
}
