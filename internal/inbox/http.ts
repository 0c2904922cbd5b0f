import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { principalOf } from '../auth/authenticate.js'
import { NoContent, responses } from '../platform/http/schemas.js'
import { NotificationList, NotificationListQuery, NotificationParams, NotificationSchema } from './schemas.js'
import type { InboxService } from './service.js'

export interface InboxRoutesOptions {
  inbox: InboxService
}

const security = [{ bearer: [] }]
const tags = ['notifications']
// Service clients have no inbox: notifications are for people.
const roles = ['admin', 'operator', 'customer', 'driver'] as const

/** /me/notifications: the signed-in user's in-app notifications. */
export const inboxRoutes: FastifyPluginAsync<InboxRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const svc = opts.inbox
  app.addSchema(NotificationSchema)

  app.get('/me/notifications', {
    config: { roles },
    schema: {
      tags,
      summary: 'List my notifications, newest first, with my unread count',
      description: 'Each new one also arrives live as a `notification.created` event on the `user:<id>` WebSocket channel.',
      security,
      querystring: NotificationListQuery,
      response: responses({ 200: NotificationList }),
    },
  }, async (request) => svc.list(principalOf(request).id, request.query))

  app.post('/me/notifications/:id/read', {
    config: { roles },
    schema: { tags, summary: 'Mark one of my notifications read (someone else’s id: 404)', security, params: NotificationParams, response: responses({ 204: NoContent }) },
  }, async (request, reply) => {
    await svc.markRead(principalOf(request).id, request.params.id)
    return reply.code(204).send(null)
  })

  app.post('/me/notifications/read-all', {
    config: { roles },
    schema: { tags, summary: 'Mark all my notifications read', security, response: responses({ 204: NoContent }) },
  }, async (request, reply) => {
    await svc.markAllRead(principalOf(request).id)
    return reply.code(204).send(null)
  })
}
