import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pushAdvanced, type PushOptions } from './push.js'
import { FAULT_MODES, SandboxState, type Fault, type FaultMode } from './state.js'

export interface SandboxOptions {
  port?: number
  host?: string
  /** Journey minutes per real minute for trackings created from now on (1 = real time). */
  speed?: number
  /** When set, `as-api-key` must equal it; otherwise any non-empty key passes. */
  apiKey?: string
  /** Where to push signed webhooks when a journey advances; none when unset. */
  webhook?: PushOptions
  /** How often journeys are checked for pushes (real ms). */
  tickMs?: number
  clock?: () => number
}

export interface Sandbox {
  url: string
  state: SandboxState
  /** Pushes due webhooks now instead of at the next tick. */
  pushNow(): Promise<number>
  close(): Promise<void>
}

type Json = Record<string, unknown>

function send(res: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  res.end(JSON.stringify(body))
}

const meta = (code: number, type: string, message: string) => ({ meta: { code, type, message }, data: {} })

async function readJson(req: IncomingMessage): Promise<Json | undefined> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString() || '{}')
    return v && typeof v === 'object' ? (v as Json) : undefined
  } catch {
    return undefined
  }
}

/** A fault named on the request itself (`x-sandbox-fault`), else the next queued one. */
function faultFor(req: IncomingMessage, state: SandboxState): Fault | undefined {
  const mode = req.headers['x-sandbox-fault']
  if (typeof mode === 'string' && FAULT_MODES.includes(mode as FaultMode)) {
    return { mode: mode as FaultMode, delayMs: Number(req.headers['x-sandbox-delay-ms']) || undefined, retryAfterS: Number(req.headers['x-sandbox-retry-after']) || undefined }
  }
  return state.takeFault()
}

/**
 * The sandbox provider: an HTTP server speaking AfterShip's Tracking API shape
 * (the `aftership` adapter talks to it through CARRIER_API_URL), with scripted
 * journeys, fault injection, call counts and signed pushes. A development tool:
 * nothing starts it unless asked (README.md).
 */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const state = new SandboxState(opts.speed ?? 1, opts.clock)
  const held = new Set<ServerResponse>()

  async function api(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    state.counts.total += 1
    const key = req.headers['as-api-key']
    if (typeof key !== 'string' || !key || (opts.apiKey && key !== opts.apiKey)) {
      state.counts.unauthorized += 1
      return send(res, 401, meta(401, 'Unauthorized', 'Invalid API key.'))
    }
    const fault = faultFor(req, state)
    if (fault) {
      state.counts.faulted += 1
      if (fault.mode === 'rate_limit') return send(res, 429, meta(429, 'TooManyRequests', 'You have exceeded the API call rate limit.'), { 'retry-after': String(fault.retryAfterS ?? 30) })
      if (fault.mode === 'server_error') return send(res, fault.status ?? 503, meta(fault.status ?? 503, 'InternalError', 'Something went wrong on AfterShip\'s end.'))
      if (fault.mode === 'timeout') {
        held.add(res) // never answered; freed when the client gives up or the sandbox closes
        res.on('close', () => held.delete(res))
        return
      }
      await new Promise((r) => setTimeout(r, fault.delayMs ?? 2_000))
    }
    const one = /\/trackings\/([^/]+)\/([^/]+)$/.exec(path)
    if (req.method === 'GET' && one) {
      state.counts.get += 1
      const t = state.find(decodeURIComponent(one[1]!).toLowerCase(), decodeURIComponent(one[2]!))
      if (!t) return send(res, 404, meta(4004, 'NotFound', 'Tracking does not exist.'))
      return send(res, 200, { meta: { code: 200 }, data: { tracking: state.view(t) } })
    }
    if (req.method === 'POST' && /\/trackings\/?$/.test(path)) {
      state.counts.create += 1
      const tracking = (await readJson(req))?.tracking as Json | undefined
      const tn = tracking?.tracking_number
      const slug = typeof tracking?.slug === 'string' && tracking.slug ? tracking.slug.toLowerCase() : 'sandbox'
      if (typeof tn !== 'string' || !/^[A-Za-z0-9-]{4,100}$/.test(tn)) return send(res, 400, meta(4005, 'BadRequest', 'The value of `tracking_number` is invalid.'))
      const existing = state.find(slug, tn)
      if (existing) return send(res, 400, { ...meta(4003, 'BadRequest', 'Tracking already exists.'), data: { tracking: state.view(existing) } })
      return send(res, 201, { meta: { code: 201 }, data: { tracking: state.view(state.create(slug, tn)) } })
    }
    return send(res, 404, meta(404, 'NotFound', 'The URI requested is invalid or the resource requested does not exist.'))
  }

  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/__sandbox/calls' && req.method === 'GET') return send(res, 200, { ...state.counts, trackings: state.size() })
    if (path === '/__sandbox/clock' && req.method === 'GET') return send(res, 200, { now: new Date(state.now()).toISOString(), speed: state.speed })
    if (path === '/__sandbox/reset' && req.method === 'POST') {
      state.reset()
      return send(res, 200, { ok: true })
    }
    if (path === '/__sandbox/faults' && req.method === 'DELETE') {
      state.clearFaults()
      return send(res, 200, { ok: true })
    }
    const body = await readJson(req)
    if (path === '/__sandbox/faults' && req.method === 'POST') {
      if (!body || !FAULT_MODES.includes(body.mode as FaultMode)) return send(res, 400, { error: `mode must be one of ${FAULT_MODES.join(', ')}` })
      const num = (k: string) => (typeof body[k] === 'number' ? (body[k] as number) : undefined)
      state.addFault({ mode: body.mode as FaultMode, retryAfterS: num('retryAfterS'), status: num('status'), delayMs: num('delayMs') }, num('count') ?? 1)
      return send(res, 201, { ok: true })
    }
    if (path === '/__sandbox/clock' && req.method === 'POST') {
      if (typeof body?.speed === 'number' && body.speed > 0) state.speed = body.speed
      if (typeof body?.advanceMinutes === 'number' && body.advanceMinutes > 0) state.advance(body.advanceMinutes)
      await pushNow()
      return send(res, 200, { now: new Date(state.now()).toISOString(), speed: state.speed })
    }
    return send(res, 404, { error: 'unknown sandbox control' })
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://sandbox').pathname
    const handler = path.startsWith('/__sandbox/') ? control : api
    handler(req, res, path).catch((err: Error) => send(res, 500, meta(500, 'InternalError', err.message)))
  })
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  let pushing = Promise.resolve(0)
  const pushNow = () => (pushing = pushing.then(() => (opts.webhook ? pushAdvanced(state, opts.webhook) : 0)))
  const timer = opts.webhook ? setInterval(() => void pushNow(), opts.tickMs ?? 1_000) : undefined
  timer?.unref()

  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    state,
    pushNow,
    close: async () => {
      if (timer) clearInterval(timer)
      for (const res of held) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await pushing
    },
  }
}
