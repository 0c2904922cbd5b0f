import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { AppError } from '../platform/errors.js'
import { responses } from '../platform/http/schemas.js'
import type { CarrierAdmin } from './admin-service.js'
import { BulkBody, BulkResult, JobsQuery, JobsResult, LogQuery, LogResult, RefreshParams, RefreshResult, UsageQuery, UsageResult, WebhookParams, WebhookResult } from './schemas.js'
import type { CarrierWebhooks } from './webhooks.js'

const bearer = [{ bearer: [] }]
const tags = ['carrier sync']

/** The admin side of carrier trackings: refresh, bulk refresh, the queue, API usage and the update log. */
export const carrierAdminRoutes: FastifyPluginAsync<{ admin: CarrierAdmin }> = async (fastify, { admin }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  // Who asked, in the update log's triggeredBy.
  const by = (request: { principal?: { id: string } }) => request.principal?.id ?? 'admin'
  // A spent budget is new again at 00:00 UTC: say so, as the rate limits do.
  app.addHook('onError', async (_request, reply, err) => {
    if (err instanceof AppError && err.code === 'budget_exhausted') {
      const now = new Date()
      void reply.header('retry-after', String(Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000)))
    }
  })

  app.post('/carrier-sync/refresh/:tn', {
    config: { roles: ['admin'] },
    schema: {
      tags,
      summary: 'Ask the carrier about one tracking now',
      description: 'A manual check (priority 50) that may use the reserve. Unknown number 404; one of our own packages 409 `not_external`; ' +
        'a final tracking (or one the carrier does not know) 409 `tracking_final`; no budget left, reserve included, 429 `budget_exhausted`.',
      security: bearer,
      params: RefreshParams,
      response: responses({ 202: RefreshResult }),
    },
  }, async (request, reply) => reply.code(202).send(await admin.refresh(request.params.tn, by(request))))

  app.post('/carrier-sync/bulk-refresh', {
    config: { roles: ['admin'] },
    schema: {
      tags,
      summary: 'Queue manual checks for many trackings',
      description: 'Named numbers (at most 500) or filters (at least one of status, carrier, staleForMinutes); at most 500 are queued per request, least recently checked first. ' +
        'No budget left, reserve included, 429 `budget_exhausted`.',
      security: bearer,
      body: BulkBody,
      response: responses({ 202: BulkResult }),
    },
  }, async (request, reply) => reply.code(202).send(await admin.bulkRefresh(request.body, by(request))))

  app.get('/carrier-sync/jobs', {
    config: { roles: ['admin', 'operator'] },
    schema: {
      tags,
      summary: 'The carrier check queue by type and state',
      description: 'pending: due now; running: leased by a worker; completed and failed: checks of the last 24 h (docs/api-changes.md has the mapping). ' +
        'Items default to pending and running, by priority; `cleanup` runs are counted, not listed.',
      security: bearer,
      querystring: JobsQuery,
      response: responses({ 200: JobsResult }),
    },
  }, async (request) => admin.jobs(request.query))

  app.get('/carrier-sync/usage', {
    config: { roles: ['admin', 'operator'] },
    schema: { tags, summary: 'Provider calls against the budget, by day and carrier', description: '`byDay` oldest first, days without calls as zeros; `byCarrier` over the same days.', security: bearer, querystring: UsageQuery, response: responses({ 200: UsageResult }) },
  }, async (request) => admin.usage(request.query.days ?? 7))

  app.get('/carrier-sync/log', {
    config: { roles: ['admin', 'operator'] },
    schema: { tags, summary: 'The update log: every check and push, newest first', security: bearer, querystring: LogQuery, response: responses({ 200: LogResult }) },
  }, async (request) => admin.log(request.query))
}

/** Pushes accepted per minute from one address. */
export const PUSHES_PER_MINUTE = 6_000

/**
 * `POST /carrier-webhooks/:provider`: no token, the provider's own signature. The
 * HMAC covers the body's exact bytes, so this plugin (and only it) takes the body raw.
 */
export const carrierWebhookRoutes: FastifyPluginAsync<{ webhooks: CarrierWebhooks }> = async (fastify, { webhooks }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))

  app.post('/carrier-webhooks/:provider', {
    // A provider pushes in bursts from a few addresses: its own, larger per-IP window, apart from RATE_LIMIT_MAX.
    config: { auth: 'none', rateLimit: { max: PUSHES_PER_MINUTE, timeWindow: 60_000, keyGenerator: (request) => `carrier-push:${request.ip}` } },
    schema: {
      tags,
      summary: "A carrier tracking provider's push",
      description: 'Signed with CARRIER_WEBHOOK_SECRET in the provider\'s header (`aftership-hmac-sha256`; EasyPost `x-hmac-signature`); bad or missing 401. ' +
        'Applied once by checkpoint; logged as a `webhook` check that costs no budget. Unknown provider 404.',
      params: WebhookParams,
      response: responses({ 202: WebhookResult }),
    },
  }, async (request, reply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    return reply.code(202).send(await webhooks.receive(request.params.provider, request.headers, raw))
  })
}
