import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { NoContent, responses } from '../platform/http/schemas.js'
import type { Endpoint } from './domain.js'
import { CreatedWebhook, CreateWebhookBody, DeliveryList, PageQuery, WebhookList, WebhookParams, WebhookSchema } from './schemas.js'
import type { WebhookService } from './service.js'

export interface WebhookRoutesOptions {
  webhooks: WebhookService
}

const bearer = [{ bearer: [] }]
const tags = ['webhooks']

const view = <T extends Endpoint>(e: T) => ({ ...e, status: e.disabledAt ? ('disabled' as const) : ('active' as const) })

/** /webhooks: admins register signed HTTP callbacks for package events; operators read them. */
export const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const svc = opts.webhooks
  app.addSchema(WebhookSchema)

  app.post('/webhooks', {
    config: { roles: ['admin'] },
    schema: {
      tags,
      summary: 'Register a webhook endpoint (the signing secret is shown once)',
      description: 'Each event of the chosen types is POSTed as the event envelope, signed in x-delivertrack-signature (see docs/webhooks.md).',
      security: bearer,
      body: CreateWebhookBody,
      response: responses({ 201: CreatedWebhook }),
    },
  }, async (request, reply) => {
    const created = await svc.register(request.body)
    return reply.code(201).header('cache-control', 'no-store').send(view(created))
  })

  app.get('/webhooks', {
    config: { roles: ['admin', 'operator'] },
    schema: { tags, summary: 'List webhook endpoints, newest first (secrets are never shown)', security: bearer, querystring: PageQuery, response: responses({ 200: WebhookList }) },
  }, async (request) => {
    const page = await svc.list(request.query.limit, request.query.cursor)
    return { items: page.items.map(view), nextCursor: page.nextCursor }
  })

  app.post('/webhooks/:id/enable', {
    config: { roles: ['admin'] },
    schema: {
      tags,
      summary: 'Re-enable an endpoint disabled after sustained failure',
      description: 'Clears the failure streak. Events from now on are delivered; those that arrived while it was disabled are not sent again.',
      security: bearer,
      params: WebhookParams,
      response: responses({ 200: Type.Ref('Webhook') }),
    },
  }, async (request) => view(await svc.enable(request.params.id)))

  app.delete('/webhooks/:id', {
    config: { roles: ['admin'] },
    schema: { tags, summary: 'Remove a webhook endpoint and its delivery history', security: bearer, params: WebhookParams, response: responses({ 204: NoContent }) },
  }, async (request, reply) => {
    await svc.remove(request.params.id)
    return reply.code(204).send(null)
  })

  app.get('/webhooks/:id/deliveries', {
    config: { roles: ['admin', 'operator'] },
    schema: {
      tags,
      summary: 'Deliveries to an endpoint, newest first, each with every attempt',
      security: bearer,
      params: WebhookParams,
      querystring: PageQuery,
      response: responses({ 200: DeliveryList }),
    },
  }, async (request) => svc.deliveries(request.params.id, request.query.limit, request.query.cursor))
}

