/**
 * Run inside a network namespace of its own (embedded.test.ts starts it with
 * `unshare -n`): listens on PostgreSQL's, Redis's and RabbitMQ's ports as a
 * tripwire, starts the gateway from source with none of the service URLs, and
 * drives it as a user would. Prints one JSON line with what it saw.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { projectRoot } from '../../platform/paths.js'

const PORT = 3811
const base = `http://127.0.0.1:${PORT}`
const touched: Record<string, number> = { 5432: 0, 6379: 0, 5672: 0 }

async function tripwires(): Promise<Server[]> {
  return Promise.all(
    Object.keys(touched).map(
      (port) =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer((socket) => {
            touched[port]!++
            socket.destroy()
          })
          server.once('error', reject)
          server.listen(Number(port), '127.0.0.1', () => resolve(server))
        }),
    ),
  )
}

function start(dataDir: string): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', PORT: String(PORT), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'admin-password', JWT_SECRET: 'embedded-smoke-secret-0123456789' }
  const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/gateway/main.ts'], { cwd: projectRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  return { child, exited: new Promise((r) => child.on('exit', (code) => r(code))), output: () => out }
}

async function ready(): Promise<unknown> {
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`${base}/api/v1/health/ready`)
      if (res.ok) return await res.json()
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('the gateway did not become ready within 60 s')
}

async function api(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> }
}

async function stop(gw: ReturnType<typeof start>): Promise<number | null> {
  gw.child.kill('SIGTERM')
  return gw.exited
}

async function main(): Promise<void> {
  const servers = await tripwires()
  const dataDir = await mkdtemp(join(tmpdir(), 'delivertrack-embedded-'))
  const result: Record<string, unknown> = {}
  let gw = start(dataDir)
  try {
    result.ready = await ready()
    const login = await api('POST', '/auth/login', undefined, { email: 'admin@example.com', password: 'admin-password' })
    const token = login.body.accessToken as string
    const created = await api('POST', '/packages', token, { sender: { name: 'Shop' }, recipient: { name: 'Ana' } })
    const tn = created.body.trackingNumber as string
    result.created = created.status

    // A WebSocket subscriber hears the status change.
    const ws = new WebSocket(`ws://127.0.0.1:${PORT}/api/v1/ws?token=${token}`)
    const frames: Array<Record<string, unknown>> = []
    ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>))
    await new Promise((r, j) => ws.once('open', r).once('error', j))
    ws.send(JSON.stringify({ op: 'subscribe', channel: `package:${tn}` }))
    for (let i = 0; i < 100 && !frames.some((f) => f.type === 'subscribed'); i++) await new Promise((r) => setTimeout(r, 50))
    result.statusChange = (await api('POST', `/packages/${tn}/status`, token, { status: 'in_transit', note: 'left the depot' })).status
    for (let i = 0; i < 100 && !frames.some((f) => f.type === 'event'); i++) await new Promise((r) => setTimeout(r, 50))
    result.wsEvent = frames.find((f) => f.type === 'event') ?? null
    ws.close()
    // The metrics role runs in this process too: the order shows on today's chart.
    const today = new Date().toISOString().slice(0, 10)
    for (let i = 0; i < 100; i++) {
      result.chart = ((await api('GET', `/metrics/orders-by-day?from=${today}&to=${today}`, token)).body.items as unknown[] | undefined)?.[0] ?? null
      if ((result.chart as { created?: number } | null)?.created === 1) break
      await new Promise((r) => setTimeout(r, 50))
    }

    result.firstExit = await stop(gw)
    gw = start(dataDir)
    await ready()
    const again = await api('POST', '/auth/login', undefined, { email: 'admin@example.com', password: 'admin-password' })
    const token2 = again.body.accessToken as string
    result.afterRestart = (await api('GET', `/packages/${tn}`, token2)).body
    result.eventsAfterRestart = ((await api('GET', `/packages/${tn}/events`, token2)).body.items as Array<{ seq: number; type: string }>).map((e) => [e.seq, e.type])
    result.secondExit = await stop(gw)
  } catch (err) {
    result.error = (err as Error).message
    result.output = gw.output().slice(-3000)
    gw.child.kill('SIGKILL')
  } finally {
    result.touched = touched
    for (const s of servers) s.close()
    await rm(dataDir, { recursive: true, force: true })
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

void main()
