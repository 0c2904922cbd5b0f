import { withRequestId } from '../request-context.js'
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { handleClientError } from './client-errors.js'
import { ErrorBody, handleFrameworkError, installErrorHandling } from './errors.js'
import { LOG_REDACT, serializeRequest } from './log-redaction.js'
import { documentedSchema } from './openapi.js'
import { DOCS_CSP, registerSecurityHeaders } from './security-headers.js'
import { validatorsByPart } from './validators.js'

export interface ServerOptions {
  logLevel: string
  bodyLimit: number
  version: string
  /** Trust X-Forwarded-For from these proxies (Fastify's trustProxy: true, a hop count, or addresses). */
  trustProxy?: boolean | string | ((address: string, hop: number) => boolean)
  /** Origins whose pages may call the API (CORS_ORIGINS); none: same origin only. */
  corsOrigins?: readonly string[]
  /** Object storage origins the console loads proof images from and uploads proofs to (CSP). */
  storageOrigins?: readonly string[]
  /** Overrides the pino options, e.g. a destination stream in tests. */
  logger?: FastifyServerOptions['logger']
}

const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/

/**
 * The bare gateway: JSON logging with the request id on every line and no
 * credentials, the one error handler (also for what Node's parser refuses),
 * `x-request-id` and the security headers on every response, and the OpenAPI
 * document built from the route schemas. Domain routes are registered by the caller.
 */
export async function createServer(opts: ServerOptions): Promise<FastifyInstance> {
  const logger = opts.logger ?? { level: opts.logLevel }
  const app = Fastify({
    // Credentials never reach a log line: not in a URL's query (?token= on the socket), not under a secret's name.
    logger: typeof logger === 'object' ? { redact: LOG_REDACT, ...logger, serializers: { ...logger.serializers, req: serializeRequest } } : logger,
    bodyLimit: opts.bodyLimit,
    // Long enough that an over-long tracking number reaches its route and gets a validation error.
    routerOptions: { maxParamLength: 256 },
    // genReqId reads the header itself so an unsafe incoming id is replaced, not echoed.
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    genReqId: (req) => {
      const incoming = req.headers['x-request-id']
      return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    // The validators' Ajv options are set in validators.ts (Fastify's `ajv` option would not reach them).
    schemaController: { compilersFactory: { buildValidator: validatorsByPart() } },
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: handleClientError,
    return503OnClosing: true,
    trustProxy: opts.trustProxy ?? false,
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>()

  // The rest of the request runs in its request context: events it writes carry its id.
  app.addHook('onRequest', (request, _reply, done) => withRequestId(request.id, done))
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  installErrorHandling(app)
  await registerSecurityHeaders(app, { corsOrigins: opts.corsOrigins ?? [], storageOrigins: opts.storageOrigins ?? [] })
  app.addSchema(ErrorBody)
  // JSON in and out: Fastify's default text/plain parser would hand a string to JSON
  // routes (a confusing 400); without it such a body is 415 unsupported_media_type.
  app.removeContentTypeParser('text/plain')
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'DeliverTrack API',
        version: opts.version,
        description: 'Real-time package tracking. Errors share one body (`Error`); see docs/ and shared API.md.',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => ({ schema: documentedSchema(route, schema as Record<string, unknown> | undefined) as typeof schema, url }),
  })
  // Swagger UI gets its own policy (see DOCS_CSP). No validator badge: it would send the
  // document's address to validator.swagger.io.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true, validatorUrl: null }, staticCSP: DOCS_CSP })
  return app
}
