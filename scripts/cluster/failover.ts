/**
 * `npm run test:cluster` (issue 21): DeliverTrack on a three-node RabbitMQ cluster
 * with quorum queues loses nothing when the node leading the worker queues dies.
 *
 * scripts/rabbitmq-cluster.sh starts the cluster (torn down again at the end, also
 * on failure; CLUSTER_KEEP=1 leaves it running). Two gateways (built as
 * cmd/gateway builds them, by the test harness, each listening on a port) and two
 * `cmd/worker --only status-updates,archive,webhooks` processes run against it with
 * AMQP_URL listing every node and RABBITMQ_QUEUE_TYPE=quorum, on a PostgreSQL schema
 * of their own, an s3rver bucket and a webhook receiver that takes every event.
 * WebSocket clients on both gateways subscribe to every package of the burst and,
 * after any disconnect, resubscribe with `since` (their last seq).
 *
 * The burst: CLUSTER_ROUNDS (32) rounds, one every CLUSTER_PACE_MS (250), of
 * `POST /api/v1/status-updates` through each gateway for its half of
 * CLUSTER_PACKAGES (16) packages (a package's updates go through one gateway in
 * occurredAt order). After a third of the rounds the node that leads most of the
 * worker queues (of those holding client connections) is killed (kill -9 of its
 * beam.smp), and one socket per gateway is cut at the same moment. Then, once
 * everything settled:
 * - the killed node held client connections, and afterwards none is on it and as
 *   many as before are on the other two; the cut sockets came back with `since`;
 * - every accepted update applied (none refused, none missing), one event each;
 * - on every socket, every package's seqs contiguous up to the event log's last:
 *   no gap, no duplicate;
 * - every logged event in the archive's Parquet objects (read back with hyparquet)
 *   and delivered to the webhook receiver at least once;
 * - time until delivery resumes: the longest pause in socket (and webhook)
 *   deliveries from the kill until everything settled, and when it ended; and the
 *   first delivery of an update posted after the kill (the whole path again).
 *   Printed, not asserted.
 * `--record` (or CLUSTER_RECORD=1) writes the figures into docs/benchmarks.md.
 *
 * Dry run without failover support: CLUSTER_KILL=0 kills nothing;
 * CLUSTER_SINGLE_URL=1 gives the processes the first node only;
 * RABBITMQ_QUEUE_TYPE=classic declares classic queues.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import WebSocket from 'ws'
import { allPublished, eventLog, type LoggedEvent } from '../../internal/app/testing/events.js'
import { bearer, testGateway, type TestGateway, type TestLike } from '../../internal/app/testing/gateway.js'
import { spawnWorker, type WorkerProcess } from '../../internal/app/testing/process.js'
import { WORKER_TEST_ENV } from '../../internal/app/testing/worker.js'
import { projectRoot } from '../../internal/platform/paths.js'
import { eventually } from '../../internal/platform/testing/broker.js'
import { startReceiver } from '../../internal/platform/testing/receiver.js'
import { startS3 } from '../../internal/platform/testing/s3.js'
import { percentile, sleep, writeResults, type Result } from '../bench/support.js'

const PACKAGES = Number(process.env.CLUSTER_PACKAGES ?? 16)
const ROUNDS = Number(process.env.CLUSTER_ROUNDS ?? 32)
const PACE_MS = Number(process.env.CLUSTER_PACE_MS ?? 250)
const KILL_ROUND = Math.floor(ROUNDS / 3)
const QUEUE_TYPE = process.env.RABBITMQ_QUEUE_TYPE ?? 'quorum'
const KILL = process.env.CLUSTER_KILL !== '0'
const RECORD = process.argv.includes('--record') || process.env.CLUSTER_RECORD === '1'
const CLIENTS_PER_GATEWAY = 2
/** How long everything may take to settle after the burst, all waits together. */
const SETTLE_MS = 90_000
/** The work queues of the roles running here (not their retry delays or dead letters). */
const WORKER_QUEUE = /^delivertrack\.(status-updates(\.p\d+)?|archive|webhooks)$/

const run = promisify(execFile)
const script = join(projectRoot(), 'scripts/rabbitmq-cluster.sh')
const cluster = async (...args: string[]) => (await run('bash', [script, ...args], { maxBuffer: 16 * 1024 * 1024 })).stdout.trim()
const HOST = process.env.RABBIT_CLUSTER_HOST ?? 'localhost'
/** Every client connection in the cluster, by the node it came in on (node N listens on the Nth URL's port). */
const connectionsByNode = async (via: string) => {
  const listed = JSON.parse((await cluster('ctl', via, '-q', 'list_connections', 'port', '--formatter', 'json')) || '[]') as Array<{ port: number }>
  const base = Number(process.env.RABBIT_CLUSTER_PORT ?? 5680)
  const byNode = new Map<string, number>(['1', '2', '3'].map((n) => [`dt${n}@${HOST}`, 0]))
  for (const { port } of listed) byNode.set(`dt${port - base}@${HOST}`, (byNode.get(`dt${port - base}@${HOST}`) ?? 0) + 1)
  return { byNode, total: listed.length, text: [...byNode].map(([node, c]) => `${node} ${c}`).join(', ') }
}
const startedAt = performance.now()
const log = (m: string) => console.log(`[${((performance.now() - startedAt) / 1000).toFixed(1)} s] ${m}`)

/** The harness's teardown contract, run in reverse order at the end whatever happened. */
const teardowns: Array<() => unknown> = []
const t: TestLike = { teardown: (fn) => void teardowns.push(fn) }
let tearing: Promise<void> | undefined
/** Once: an interrupt and the run's own end both wait for the same teardown. */
function tearDown(): Promise<void> {
  tearing ??= (async () => {
    for (const fn of teardowns.splice(0).reverse()) {
      try {
        await Promise.race([fn(), sleep(30_000).then(() => console.error('a teardown step took over 30 s; going on'))])
      } catch (err) {
        console.error('teardown step failed:', (err as Error).message)
      }
    }
  })()
  return tearing
}

/**
 * A WebSocket client subscribed to `package:<tn>` for every package, which on any
 * close reconnects and resubscribes with `since` = the last seq it saw per channel.
 */
class ResumingClient {
  /** Durable seqs per tracking number, in arrival order, across reconnects. */
  readonly seqs = new Map<string, number[]>()
  /** The channel's seq when first subscribed: what the client expects to follow it. */
  readonly baseline = new Map<string, number>()
  /** When each update's event (by the update's externalId, carried as the note) arrived. */
  readonly arrivals = new Map<string, number>()
  /** When each durable event arrived. */
  readonly times: number[] = []
  reconnects = 0
  private socket: WebSocket | undefined
  private closing = false

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly token: string,
    private readonly tns: readonly string[],
  ) {}

  async open(): Promise<void> {
    const socket = new WebSocket(`${this.url}?token=${this.token}`)
    this.socket = socket
    socket.on('message', (data) => this.receive(JSON.parse(data.toString()) as Record<string, unknown>))
    socket.on('close', () => {
      if (this.closing) return
      this.reconnects++
      // Back off a little: the gateway may be the thing that is restarting.
      setTimeout(() => void this.open().catch(() => socket.emit('close')), 200)
    })
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    for (const tn of this.tns) {
      const since = this.seqs.get(tn)?.at(-1) ?? this.baseline.get(tn)
      socket.send(JSON.stringify({ op: 'subscribe', channel: `package:${tn}`, ...(since !== undefined ? { since } : {}) }))
    }
  }

  private receive(m: Record<string, unknown>): void {
    const tn = typeof m.channel === 'string' ? m.channel.replace(/^package:/, '') : undefined
    if (!tn) return
    if (m.type === 'subscribed' && !this.baseline.has(tn)) this.baseline.set(tn, m.seq as number)
    if (m.type !== 'event') return
    const event = m.event as { seq?: number; data?: { note?: string } }
    if (event.seq === undefined) return
    const list = this.seqs.get(tn) ?? []
    list.push(event.seq)
    this.times.push(Date.now())
    this.seqs.set(tn, list)
    if (event.data?.note && !this.arrivals.has(event.data.note)) this.arrivals.set(event.data.note, Date.now())
  }

  /** Whether every package's last seq has arrived. */
  caughtUp(last: Map<string, number>): boolean {
    return this.tns.every((tn) => (this.seqs.get(tn)?.at(-1) ?? this.baseline.get(tn) ?? 0) >= last.get(tn)!)
  }

  /** Seqs missing between the baseline and the log's last, and seqs received more than once. */
  check(last: Map<string, number>): { gaps: number; duplicates: number; outOfOrder: number } {
    let gaps = 0
    let duplicates = 0
    let outOfOrder = 0
    for (const tn of this.tns) {
      const got = this.seqs.get(tn) ?? []
      const seen = new Set(got)
      duplicates += got.length - seen.size
      for (let i = 1; i < got.length; i++) if (got[i]! <= got[i - 1]!) outOfOrder++
      for (let s = (this.baseline.get(tn) ?? 0) + 1; s <= last.get(tn)!; s++) if (!seen.has(s)) gaps++
    }
    return { gaps, duplicates, outOfOrder }
  }

  /** Cuts the connection as a flaky network would: the client comes back with `since`. */
  drop(): void {
    this.socket?.terminate()
  }

  close(): void {
    this.closing = true
    this.socket?.terminate()
  }
}

/**
 * The longest pause in deliveries after the kill (the kill opens the first) and
 * when it ended, relative to the kill. When some delivery never came, `endAt`
 * closes the last pause, which then never ended (Infinity) if it is the longest.
 */
function pause(killedAt: number | undefined, arrivals: number[], complete: boolean, endAt: number): { longestMs: number; resumedMs: number } {
  if (killedAt === undefined) return { longestMs: NaN, resumedMs: NaN }
  const points = [killedAt, ...arrivals.filter((at) => at > killedAt).sort((x, y) => x - y), ...(complete ? [] : [endAt])]
  let best = { longestMs: NaN, resumedMs: NaN }
  for (let i = 1; i < points.length; i++) {
    const gap = points[i]! - points[i - 1]!
    if (!(gap <= best.longestMs)) best = { longestMs: gap, resumedMs: !complete && i === points.length - 1 ? Infinity : points[i]! - killedAt }
  }
  return best
}

/** Runs `fn` again (up to 5 times, a second apart) when it throws: a shared server may refuse a connection for a moment. */
async function again<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (attempt >= 5) throw err
      log(`retrying after: ${(err as Error).message}`)
      await sleep(1_000)
    }
  }
}

interface Failure {
  what: string
  detail: string
}

async function main(): Promise<{ failures: Failure[]; results: Result[] }> {
  const failures: Failure[] = []
  const expect = (ok: boolean, what: string, detail: string) => {
    log(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${detail}`)
    if (!ok) failures.push({ what, detail })
  }

  // A cluster left by an interrupted run would still hold that run's queues (perhaps of the other type).
  await cluster('stop')
  log('starting the three-node cluster (scripts/rabbitmq-cluster.sh start)')
  t.teardown(async () => {
    if (process.env.CLUSTER_KEEP === '1') return log('CLUSTER_KEEP=1: the cluster keeps running (scripts/rabbitmq-cluster.sh stop)')
    await cluster('stop')
    log('cluster stopped and removed')
  })
  const urls = (await cluster('start')).split('\n').at(-1)!.split(',')
  const amqpUrl = process.env.CLUSTER_SINGLE_URL === '1' ? urls[0]! : urls.join(',')
  // The harness's schema and Redis prefix; its broker check then looks at the cluster, not at 5672.
  process.env.AMQP_URL = urls[0]
  log(`cluster up: ${amqpUrl}; queue type ${QUEUE_TYPE}`)

  const s3 = await startS3(t)
  const hooks: Array<{ at: number; eventId: string; note?: string }> = []
  const receiver = await startReceiver(t, (req) => {
    const body = JSON.parse(req.body) as { data?: { note?: string } }
    hooks.push({ at: Date.now(), eventId: req.headers['x-delivertrack-event-id'] as string, note: body.data?.note })
    return 200
  })
  const shared = { ...WORKER_TEST_ENV, RABBITMQ_QUEUE_TYPE: QUEUE_TYPE, STATUS_UPDATE_PARTITIONS: '4' }
  // The gateways declare the worker queues, so events wait there while a worker is away.
  const gwEnv = { ...shared, WORKER_QUEUES: 'archive,webhooks', AMQP_URL: amqpUrl }
  const a = await testGateway(t, gwEnv, { bus: true, amqpUrl, statusQueueUrl: amqpUrl })
  const b = await testGateway(t, gwEnv, { bus: true, amqpUrl, statusQueueUrl: amqpUrl, shared: a })
  await eventually(() => a.bus.connected && b.bus.connected, 'both gateways to connect to the cluster', 60_000)
  let gatewayReconnects = 0
  for (const gw of [a, b]) gw.bus.onConnected((downSince) => void (downSince && gatewayReconnects++))
  const gateways: Array<{ gw: TestGateway; base: string }> = []
  for (const gw of [a, b]) {
    await gw.app.listen({ port: 0, host: '127.0.0.1' })
    gateways.push({ gw, base: `127.0.0.1:${(gw.app.server.address() as { port: number }).port}` })
  }
  const admin = await a.user('admin')
  const service = await a.serviceToken()
  const hook = await a.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: bearer(admin.token), payload: { url: `${receiver.url}/hooks`, events: ['*'] } })
  if (hook.statusCode !== 201) throw new Error(`webhook registration: ${hook.statusCode} ${hook.body}`)

  const tns: string[] = []
  for (let i = 0; i < PACKAGES; i++) tns.push((await (i % 2 ? b : a).packages.create({ sender: { name: 'Shop' }, recipient: { name: `R${i}` } })).trackingNumber)

  // Few connections each: the PostgreSQL server is shared with whatever else runs on the machine.
  const workerEnv = { ...shared, WORKER_QUEUES: 'archive,webhooks', REDIS_URL: a.urls.redisUrl, DATABASE_POOL_MAX: '5', ...s3.env }
  const workers: WorkerProcess[] = [1, 2].map(() => spawnWorker(t, a, amqpUrl, ['--only', 'status-updates,archive,webhooks'], workerEnv))
  const workerTail = () => workers.map((w, i) => `--- worker ${i + 1} ---\n${w.output().slice(-3000)}`).join('\n')

  const clients: ResumingClient[] = []
  for (const [i, { base }] of gateways.entries()) {
    for (let c = 0; c < CLIENTS_PER_GATEWAY; c++) {
      const client = new ResumingClient(`gateway ${i + 1} client ${c + 1}`, `ws://${base}/api/v1/ws`, admin.token, tns)
      await client.open()
      t.teardown(() => client.close())
      clients.push(client)
    }
  }
  await eventually(() => clients.every((c) => c.baseline.size === tns.length), 'every client subscribed to every package')
  const dropped = clients.filter((_, i) => i % CLIENTS_PER_GATEWAY === 0)

  // The burst: each gateway posts for its own packages, one batch per round, occurredAt rising.
  const t0 = Date.UTC(2026, 0, 1, 8)
  const posted = new Map<string, number>()
  let killedAt: number | undefined
  let round = 0
  const accepted = { updates: 0, refusedRequests: 0 }
  const postRound = async (lane: number, r: number) => {
    const updates = tns
      .filter((_, i) => i % 2 === lane)
      .map((tn) => {
        const externalId = `burst-${r}-${tn}`
        return { externalId, trackingNumber: tn, status: 'in_transit', occurredAt: new Date(t0 + r * 60_000).toISOString(), note: externalId }
      })
    const at = Date.now()
    const res = await fetch(`http://${gateways[lane]!.base}/api/v1/status-updates`, { method: 'POST', headers: { ...bearer(service), 'content-type': 'application/json' }, body: JSON.stringify({ updates }) })
    const body = (await res.json()) as { accepted?: number }
    if (res.status !== 202) {
      accepted.refusedRequests++
      log(`POST /status-updates through gateway ${lane + 1}: ${res.status} ${JSON.stringify(body)}`)
      return
    }
    accepted.updates += body.accepted ?? 0
    for (const u of updates) posted.set(u.externalId, at)
  }
  // One round first, applied and seen everywhere: the workers consume and the queues have their leaders.
  await Promise.all([postRound(0, 0), postRound(1, 0)])
  await eventually(() => clients.every((c) => tns.every((tn) => (c.seqs.get(tn)?.length ?? 0) >= 1)), 'the first round on every socket (workers up)', 90_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${workerTail()}`)
  })
  log(`workers up; first round on every socket`)

  let victim: { node: string; leads: string[]; connections: number } | undefined
  let connectionsBefore = 0
  let leaderCount = 0
  if (KILL) {
    const queues = JSON.parse(await cluster('ctl', '1', '-q', 'list_queues', 'name', 'type', 'leader', '--formatter', 'json')) as Array<{ name: string; type: string; leader: string }>
    if (queues.some((q) => q.type === 'classic' && WORKER_QUEUE.test(q.name))) {
      // A classic queue has no leader: the node its process runs on is what holds it.
      const homes = await cluster('ctl', '1', '-q', 'eval', '[io:format("~s ~s~n", [element(4, amqqueue:get_name(Q)), case amqqueue:get_pid(Q) of {_, N} -> N; P -> node(P) end]) || Q <- rabbit_amqqueue:list()], ok.')
      const home = new Map(homes.split('\n').map((line) => line.trim().split(' ') as [string, string]))
      for (const q of queues) if (q.type === 'classic') q.leader = home.get(q.name) ?? ''
    }
    const leads = new Map<string, string[]>()
    for (const q of queues) {
      if (!q.leader || !WORKER_QUEUE.test(q.name)) continue
      leads.set(q.leader, [...(leads.get(q.leader) ?? []), q.name])
    }
    leaderCount = [...leads.values()].reduce((n, l) => n + l.length, 0)
    // Connections per node (every one is a gateway's or a worker's): killing a node none
    // of them uses would test the queues' failover but not the clients'. list_connections
    // lists the whole cluster's, so they are told apart by the port they came in on.
    const { byNode: connections, total, text } = await connectionsByNode('1')
    connectionsBefore = total
    log(`client connections: ${text}`)
    const ranked = [...leads.entries()].sort((x, y) => Number((connections.get(y[0]) ?? 0) > 0) - Number((connections.get(x[0]) ?? 0) > 0) || y[1].length - x[1].length)
    const top = ranked[0]
    if (!top) throw new Error('no worker queue found on the cluster')
    victim = { node: top[0], leads: top[1], connections: connections.get(top[0]) ?? 0 }
    log(`${victim.node} ${QUEUE_TYPE === 'classic' ? 'holds' : 'leads'} ${victim.leads.length} worker queues (${victim.leads.join(', ')}); it dies at round ${KILL_ROUND}`)
  }

  const killer = async () => {
    if (!victim) return
    const n = /^dt(\d)@/.exec(victim.node)?.[1]
    const pid = n ? Number(await cluster('pid', n)) : NaN
    if (!Number.isInteger(pid)) throw new Error(`no pid for ${victim.node}`)
    killedAt = Date.now()
    process.kill(pid, 'SIGKILL')
    log(`killed ${victim.node} (beam.smp pid ${pid}) with SIGKILL at round ${round}`)
    // One client per gateway loses its socket too, so resuming with `since` happens during the failover.
    for (const c of dropped) c.drop()
  }
  log(`burst: ${ROUNDS} rounds of ${PACKAGES} updates, one round every ${PACE_MS} ms, through both gateways`)
  for (round = 1; round <= ROUNDS; round++) {
    const paced = sleep(PACE_MS)
    if (round === KILL_ROUND) await killer()
    await Promise.all([postRound(0, round), postRound(1, round), paced])
  }
  log(`burst posted: ${accepted.updates} updates accepted`)

  // Everything settles: applied, published, delivered, archived, webhooked.
  const burstIds = [...posted.keys()]
  const deadline = Date.now() + SETTLE_MS
  const left = () => Math.max(1_000, deadline - Date.now())
  const settled = async () => (await again(() => a.pool.query("SELECT count(*)::int AS c FROM status_updates WHERE external_id = ANY($1) AND state <> 'queued'", [burstIds]))).rows[0].c as number
  await eventually(async () => (await settled()) === burstIds.length, 'every update applied or refused', left()).catch((err: Error) => log(err.message))
  await eventually(() => again(() => allPublished(a)), 'the outbox relays to publish every event', left()).catch((err: Error) => log(err.message))
  const events: LoggedEvent[] = (await again(() => eventLog(a))).filter((e) => tns.includes(e.tracking_number))
  const last = new Map<string, number>(tns.map((tn) => [tn, 0]))
  for (const e of events) last.set(e.tracking_number, Math.max(last.get(e.tracking_number)!, e.seq))
  await eventually(() => clients.every((c) => c.caughtUp(last)), 'every socket to reach each package’s last seq', left()).catch((err: Error) => log(err.message))
  const ids = new Set(events.map((e) => e.id))
  const hooked = () => new Set(hooks.map((h) => h.eventId).filter((id) => ids.has(id)))
  await eventually(() => hooked().size === ids.size, 'every event webhooked', left()).catch((err: Error) => log(err.message))
  let archivedRows: string[] = []
  await eventually(
    async () => {
      archivedRows = (await again(() => s3.rows())).map((r) => r.row.id as string).filter((id) => ids.has(id))
      return new Set(archivedRows).size === ids.size
    },
    'every event archived',
    left(),
    1_000,
  ).catch((err: Error) => log(err.message))
  const settledAt = Date.now()
  // Where every process's connections are now: none on the dead node, all of them back.
  let connectedNow = { byNode: new Map<string, number>(), total: 0, text: '' }
  if (victim) {
    const survivor = ['1', '2', '3'].find((n) => !victim!.node.startsWith(`dt${n}@`))!
    // A process whose first reconnect picked the dead node is still backing off (rascal waits up to 10 s).
    await eventually(
      async () => {
        connectedNow = await again(() => connectionsByNode(survivor))
        return connectedNow.total >= connectionsBefore
      },
      'every client connection back on a surviving node',
      20_000,
      1_000,
    ).catch((err: Error) => log(err.message))
  }
  const connectionsAfter = connectedNow.total

  // The figures.
  const states = Object.fromEntries((await again(() => a.pool.query('SELECT state, count(*)::int AS c FROM status_updates WHERE external_id = ANY($1) GROUP BY state', [burstIds]))).rows.map((r) => [r.state as string, r.c as number]))
  const applied = states.applied ?? 0
  const statusEvents = events.filter((e) => e.type === 'package.status_changed' && typeof e.data.note === 'string' && posted.has(e.data.note as string))
  const lost = burstIds.length - new Set(statusEvents.map((e) => e.data.note as string)).size
  const socket = clients.map((c) => ({ name: c.name, reconnects: c.reconnects, ...c.check(last) }))
  const gaps = socket.reduce((s, c) => s + c.gaps, 0)
  const dupes = socket.reduce((s, c) => s + c.duplicates, 0)
  const disorder = socket.reduce((s, c) => s + c.outOfOrder, 0)
  const reconnects = socket.reduce((s, c) => s + c.reconnects, 0)
  const archived = new Set(archivedRows).size
  const webhooked = hooked().size
  const workerReconnects = workers.reduce((n, w) => n + (w.output().match(/broker connection error; reconnecting/g)?.length ?? 0), 0)
  if (victim) {
    expect(victim.connections > 0, 'the killed node held client connections', `${victim.connections} of ${connectionsBefore} on ${victim.node}`)
    expect(
      (connectedNow.byNode.get(victim.node) ?? 0) === 0 && connectionsAfter >= connectionsBefore,
      'clients on the killed node reconnected to a surviving one',
      `${connectionsAfter} connections after settling (${connectedNow.text}), ${connectionsBefore} before the kill; reconnects logged: gateways' buses ${gatewayReconnects}, workers ${workerReconnects}`,
    )
  }
  expect(accepted.refusedRequests === 0, 'every POST /status-updates answered 202', `${accepted.refusedRequests} of ${2 * (ROUNDS + 1)} were not`)
  expect(applied === burstIds.length, 'every accepted update applied', `${applied} of ${burstIds.length} applied; states ${JSON.stringify(states)}`)
  expect(lost === 0 && statusEvents.length === burstIds.length, 'events lost (an accepted update without exactly one event)', `${lost} without an event; ${statusEvents.length} events for ${burstIds.length} updates`)
  if (victim) expect(dropped.every((c) => c.reconnects > 0), 'sockets dropped at the kill resumed with since', `${dropped.filter((c) => c.reconnects > 0).length} of ${dropped.length} reconnected`)
  expect(gaps === 0 && dupes === 0 && disorder === 0, 'socket gaps / duplicates / out of order', `${gaps} / ${dupes} / ${disorder} over ${clients.length} clients x ${tns.length} packages, ${reconnects} reconnects`)
  expect(archived === ids.size, 'every logged event archived (Parquet, read back)', `${archived} of ${ids.size} (${archivedRows.length - archived} extra copies)`)
  expect(webhooked === ids.size, 'every logged event webhooked at least once', `${webhooked} of ${ids.size} (${hooks.length} requests)`)

  // Delivery latency of an update (POST answered -> its event on a socket / at the receiver).
  const firstArrival = (id: string) => Math.min(...clients.map((c) => c.arrivals.get(id) ?? Infinity))
  const hookAt = new Map<string, number>()
  for (const h of hooks) if (h.note && !hookAt.has(h.note)) hookAt.set(h.note, h.at)
  const before = burstIds.filter((id) => killedAt === undefined || posted.get(id)! < killedAt).map((id) => firstArrival(id) - posted.get(id)!).filter(Number.isFinite).sort((x, y) => x - y)
  const after = killedAt === undefined ? [] : burstIds.filter((id) => posted.get(id)! >= killedAt!)
  const resumeSockets = after.length ? Math.min(...after.map(firstArrival)) - killedAt! : NaN
  const resumeHooks = after.length ? Math.min(...after.map((id) => hookAt.get(id) ?? Infinity)) - killedAt! : NaN
  const sockets = pause(killedAt, clients.flatMap((c) => c.times), gaps === 0 && lost === 0, settledAt)
  const webhooks = pause(killedAt, hooks.map((h) => h.at), webhooked === ids.size && lost === 0, settledAt)
  const stalled = killedAt === undefined ? [] : burstIds.filter((id) => posted.get(id)! < killedAt! && firstArrival(id) > killedAt!)
  const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : ms === Infinity ? 'never' : 'n/a')
  const totalMs = performance.now() - startedAt

  const results: Result[] = [
    { figure: 'cluster failover: status updates accepted / applied / refused', value: `${burstIds.length} / ${applied} / ${states.refused ?? 0}`, target: `all applied: ${applied === burstIds.length ? 'PASS' : 'FAIL'}` },
    { figure: 'events lost / socket gaps (and duplicates) on resumed sockets', value: `${lost} / ${gaps} (${dupes}); ${clients.length} clients x ${tns.length} packages, ${reconnects} reconnects`, target: `0 / 0: ${lost === 0 && gaps === 0 && dupes === 0 ? 'PASS' : 'FAIL'}` },
    { figure: 'events archived (Parquet on S3, read back) / webhooked at least once', value: `${archived} / ${webhooked} of ${ids.size}`, target: `all: ${archived === ids.size && webhooked === ids.size ? 'PASS' : 'FAIL'}` },
    {
      figure: 'time until delivery resumes after kill -9 of the node leading the worker queues: the longest pause in socket / webhook deliveries from the kill until all settled (a round every CLUSTER_PACE_MS, 250 ms), and when it ended',
      value: `${s(sockets.longestMs)} / ${s(webhooks.longestMs)}, ended ${s(sockets.resumedMs)} / ${s(webhooks.resumedMs)} after the kill; killed ${victim ? `${victim.node}, leader of ${victim.leads.length} of the ${leaderCount} worker queues, ${victim.connections} of the ${connectionsBefore} client connections on it, ${connectionsAfter} on the other nodes after; reconnects logged: gateways ${gatewayReconnects}, workers ${workerReconnects}` : 'nothing'}`,
      target: 'informative',
    },
    {
      figure: 'first update posted after the kill: POST answered to its event on a socket / at the webhook receiver, from the kill',
      value: `${s(resumeSockets)} / ${s(resumeHooks)}`,
      baseline: `post-to-socket before the kill: p50 ${s(percentile(before, 50))}, p99 ${s(percentile(before, 99))}`,
      target: 'informative',
    },
    { figure: 'npm run test:cluster total time (cluster start to teardown, without the stop)', value: s(totalMs), target: 'informative' },
  ]
  console.log('\nFigures')
  console.log(`  queue type ${QUEUE_TYPE}; AMQP_URL ${amqpUrl}`)
  console.log(`  killed: ${victim ? `${victim.node}, leader of ${victim.leads.length} of the ${leaderCount} worker queues, holding ${victim.connections} of ${connectionsBefore} client connections (${connectionsAfter} on the other nodes after), at round ${KILL_ROUND} of ${ROUNDS}; broker reconnects: gateways ${gatewayReconnects}, workers ${workerReconnects}` : 'nothing (CLUSTER_KILL=0)'}`)
  console.log(`  updates: ${burstIds.length} accepted, ${applied} applied, ${states.refused ?? 0} refused, ${states.queued ?? 0} still queued; events lost ${lost}`)
  console.log(`  sockets: ${clients.length} clients x ${tns.length} packages; gaps ${gaps}, duplicates ${dupes}, out of order ${disorder}, reconnects ${reconnects}`)
  console.log(`  archived ${archived} of ${ids.size} events (${archivedRows.length} rows); webhooked ${webhooked} of ${ids.size} (${hooks.length} requests)`)
  console.log(`  longest pause in deliveries from the kill until settled (rounds are ${PACE_MS} ms apart): sockets ${s(sockets.longestMs)} (ended ${s(sockets.resumedMs)} after the kill), webhooks ${s(webhooks.longestMs)} (ended ${s(webhooks.resumedMs)} after the kill)`)
  console.log(`  first update posted after the kill delivered: on a socket ${s(resumeSockets)}, webhooked ${s(resumeHooks)} after the kill; ${stalled.length} updates posted before the kill arrived after it`)
  console.log(`  post-to-socket latency before the kill: p50 ${s(percentile(before, 50))}, p99 ${s(percentile(before, 99))}`)
  console.log(`  settled ${s(settledAt - (killedAt ?? settledAt))} after the kill; run so far ${s(totalMs)}`)
  if (failures.length > 0) console.log(workerTail())
  return { failures, results }
}

const interrupted = () => {
  log('interrupted: tearing down')
  void tearDown().then(() => process.exit(130))
}
process.once('SIGINT', interrupted)
process.once('SIGTERM', interrupted)
// make test runs this too: where RabbitMQ's own scripts are not installed (not Debian's package), say so and pass.
const serverBin = join(process.env.RABBITMQ_BIN ?? '/usr/lib/rabbitmq/bin', 'rabbitmq-server')
if (!existsSync(serverBin)) {
  console.log(`SKIP: no ${serverBin}, so no local RabbitMQ cluster can be started (install Debian's rabbitmq-server, or set RABBITMQ_BIN)`)
  process.exit(0)
}
main().then(
  async ({ failures, results }) => {
    await tearDown()
    const total = (performance.now() - startedAt) / 1000
    log(`total ${total.toFixed(1)} s (cluster start, run, teardown)`)
    if (RECORD) {
      results[results.length - 1] = { figure: 'npm run test:cluster total time (cluster start, run, teardown)', value: `${total.toFixed(1)} s`, target: 'informative' }
      writeResults('npm run test:cluster', results)
      log('recorded in docs/benchmarks.md')
    }
    console.log(failures.length === 0 ? 'PASS' : `FAIL: ${failures.map((f) => f.what).join('; ')}`)
    process.exit(failures.length === 0 ? 0 : 1)
  },
  async (err: unknown) => {
    console.error(err)
    await tearDown()
    process.exit(1)
  },
)
