import { existsSync, statSync } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'

export interface WebConsoleOptions {
  /** The console's build output (`web/dist`, made by `npm run build:web`). */
  dir: string
}

/** Paths that belong to the API and the operations endpoints: never answered with the console. */
const RESERVED = ['/api', '/docs', '/metrics', '/health']
const isReserved = (path: string) => RESERVED.some((p) => path === p || path.startsWith(`${p}/`))

/** Vite puts content-hashed files here: they never change, so browsers may keep them for a year. */
const HASHED = 'assets/'
const YEAR_MS = 365 * 24 * 3600 * 1000

const PLACEHOLDER = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>DeliverTrack</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; color: #1f2937; }
    code { background: #f3f4f6; padding: 0.1rem 0.3rem; border-radius: 4px; }
    a { color: #2563eb; }
  </style>
</head>
<body>
  <h1>DeliverTrack</h1>
  <p>The gateway is running, but the web console is not built: run <code>npm run build:web</code> (or <code>npm run build</code>) and reload.</p>
  <ul>
    <li><a href="/docs">API documentation</a> (OpenAPI, try requests in the browser)</li>
    <li><a href="/api/v1/health/ready">Readiness</a> of PostgreSQL and Redis</li>
    <li>Track a parcel: <code>GET /api/v1/track/&lt;tracking number&gt;</code></li>
  </ul>
</body>
</html>
`

/**
 * Serves the web console at `/` with a history fallback: any other GET outside the
 * API answers with index.html so client-side routes (`/track/<tn>`, `/admin/...`)
 * survive a reload. Hashed assets are cached for a year, index.html is revalidated
 * on every load. Without a build it serves a page saying how to make one.
 */
export const webConsole: FastifyPluginAsync<WebConsoleOptions> = async (app, { dir }) => {
  const root = resolve(dir)
  const route = { config: { rateLimit: false as const }, schema: { hide: true } }
  const built = existsSync(join(root, 'index.html'))
  if (!built) app.log.warn({ dir: root }, 'web console not built: serving a placeholder (run npm run build:web)')
  else await app.register(fastifyStatic, { root, serve: false })

  const fileOf = (rel: string): string | undefined => {
    const full = resolve(root, rel)
    if (!full.startsWith(root + sep)) return undefined
    try {
      return statSync(full).isFile() ? full : undefined
    } catch {
      return undefined
    }
  }

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const rel = (request.params as { '*'?: string })['*'] ?? ''
    if (isReserved(`/${rel}`)) return reply.callNotFound()
    if (!built) return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PLACEHOLDER)
    if (rel && fileOf(rel)) {
      return rel.startsWith(HASHED) ? reply.sendFile(rel, { maxAge: YEAR_MS, immutable: true }) : reply.sendFile(rel, { maxAge: 0 })
    }
    // A missing file (an old hashed asset, /favicon.ico) is a 404, not the console.
    if (rel.startsWith(HASHED) || /\.[a-z0-9]+$/i.test(rel)) return reply.callNotFound()
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false })
  }
  app.get('/', route, handler)
  app.get('/*', route, handler)
}
