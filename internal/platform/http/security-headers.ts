import cors from '@fastify/cors'
import helmet from 'helmet'
import type { FastifyInstance, RouteOptions } from 'fastify'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The answer carries a credential: `cache-control: no-store`. Set for you when a 2xx schema names one. */
    noStore?: boolean
    /** false: no security headers (the WebSocket upgrade, whose HTTP reply is never sent). */
    securityHeaders?: boolean
  }
}

/**
 * The web console's policy: its own scripts, styles, images and sockets, nothing
 * inline and nothing from elsewhere, never in a frame. No upgrade-insecure-requests:
 * a gateway reached over plain HTTP (development, embedded mode) must still load.
 */
export const CONSOLE_CSP = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
}

/**
 * The policy with the object storage's origins added to img-src (proof photos are
 * presigned GETs) and connect-src (drivers POST proofs straight to the bucket).
 */
export function withStorage<P extends typeof CONSOLE_CSP>(csp: P, origins: readonly string[]): P {
  if (origins.length === 0) return csp
  return { ...csp, 'img-src': [...csp['img-src'], ...origins], 'connect-src': [...csp['connect-src'], ...origins] }
}

/**
 * Swagger UI at /docs: the console's policy, except that it inserts a style element
 * of its own. Its scripts stay held to 'self'.
 */
export const DOCS_CSP = { ...CONSOLE_CSP, 'style-src': ["'self'", "'unsafe-inline'"] }

/** Request headers a browser page on an allowed origin may send, and response headers it may read. */
const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'if-match', 'if-none-match', 'x-api-key', 'x-request-id']
const CORS_RESPONSE_HEADERS = ['x-request-id', 'etag', 'idempotent-replay', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']

/** Response fields that are credentials (accessToken, refresh_token, clientSecret, apiKey, secret, ...). */
const CREDENTIAL_FIELD = /(token|secret|api_?key)$/i

function namesCredential(schema: unknown, depth = 0): boolean {
  if (!schema || typeof schema !== 'object' || depth > 8) return false
  const s = schema as { properties?: Record<string, unknown>; items?: unknown; anyOf?: unknown[]; oneOf?: unknown[]; allOf?: unknown[] }
  if (Object.keys(s.properties ?? {}).some((name) => CREDENTIAL_FIELD.test(name))) return true
  return [...Object.values(s.properties ?? {}), s.items, ...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])].some((sub) => namesCredential(sub, depth + 1))
}

/** True when a success response of the route declares a credential field. */
export function carriesCredential(route: Pick<RouteOptions, 'schema'>): boolean {
  const response = (route.schema?.response ?? {}) as Record<string, unknown>
  return Object.entries(response).some(([status, schema]) => /^2/.test(status) && namesCredential(schema))
}

/**
 * Security headers on every answer (helmet, with the console's CSP), CORS for the
 * configured origins only, and `cache-control: no-store` on every route whose
 * answer carries a token or secret, found from its response schema, so a new such
 * route cannot forget it. Register before any route.
 */
export async function registerSecurityHeaders(app: FastifyInstance, opts: { corsOrigins: readonly string[]; storageOrigins?: readonly string[] }): Promise<void> {
  // Helmet's middleware, built once: @fastify/helmet builds it again for every
  // request, and that garbage alone raised a loaded gateway's memory by tens of MB.
  const setSecurityHeaders = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: withStorage(CONSOLE_CSP, opts.storageOrigins ?? []) },
    frameguard: { action: 'deny' },
  })
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config?.securityHeaders === false) return done()
    setSecurityHeaders(request.raw, reply.raw, (err) => done(err as Error | undefined))
  })

  if (opts.corsOrigins.length > 0) {
    const allowed = new Set(opts.corsOrigins)
    await app.register(cors, {
      // A page from any other origin gets no CORS header at all (and its preflight a 404).
      origin: (origin, cb) => cb(null, origin !== undefined && allowed.has(origin) ? origin : false),
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: CORS_REQUEST_HEADERS,
      exposedHeaders: CORS_RESPONSE_HEADERS,
      maxAge: 600,
      // Bearer tokens, not cookies: a page never needs the browser's credentials.
      credentials: false,
      strictPreflight: false,
    })
  }

  app.addHook('onRoute', (route) => {
    if (carriesCredential(route)) route.config = { ...route.config, noStore: true }
  })
  app.addHook('onSend', async (request, reply) => {
    if (request.routeOptions.config?.noStore) void reply.header('cache-control', 'no-store')
  })
}
