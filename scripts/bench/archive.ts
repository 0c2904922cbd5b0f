/**
 * `npm run bench:archive`: BENCH_ARCHIVE_EVENTS events (default 200,000) through
 * the archive consumer into a real S3 API (s3rver on 127.0.0.1), end to end: from
 * the moment the worker starts consuming a loaded queue until the last event is
 * acknowledged, which happens only after its Parquet object is uploaded and the
 * ledger says so. The ceiling is measured in the same run on the same queue: a
 * bare amqplib channel with the archive's prefetch that acknowledges everything as
 * it arrives, acknowledging as the archive's BatchConsumer does (one `multiple` ack
 * per burst read from the socket).
 * Then every object is read back with hyparquet: each event exactly once.
 * CPU per event: this process's (process.cpuUsage(): the archive role, or the bare
 * consumer, plus a 20 ms progress poll), the RabbitMQ node's from /proc (the whole
 * node; also while loading, i.e. per persistent confirmed publish), and
 * PostgreSQL's for the ledger (backends of the database, background processes).
 * Everything runs in its own PostgreSQL schema and temp folder, and each of the two
 * runs in a RabbitMQ vhost of its own: a vhost has its own message store, so the
 * second run does not wait for the store to collect the first run's 200,000 acked
 * messages (that stalls delivery for seconds).
 * Replaces the rows of bench:archive in docs/benchmarks.md (not with BENCH_ARCHIVE_WRITE=0).
 *
 * BENCH_ARCHIVE_EVENTS (200000), BENCH_ARCHIVE_BATCH (5000), BENCH_ARCHIVE_POLICY
 * (a RabbitMQ policy for the queues, e.g. '{"queue-mode":"lazy"}'),
 * BENCH_ARCHIVE_TRACE=1 (progress every second), BENCH_ARCHIVE_WRITE=0 (leave the docs alone).
 */
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import amqplib from 'amqplib'
import { parquetReadObjects } from 'hyparquet'
import pino from 'pino'
import { loadConfig } from '../../internal/config/config.js'
import { archivePrefetch, rabbitBus } from '../../internal/app/bus.js'
import { migrate } from '../../internal/platform/db/migrate.js'
import { createPool } from '../../internal/platform/db/postgres.js'
import { buildWorker } from '../../internal/app/worker.js'
import { CpuMeter, loadAverage, perCore, postgresOf, rabbitmqNode, usPer } from './proc-cpu.js'
import { BENCHMARKS_MD, setQueuePolicy, writeResults } from './support.js'

const ARCHIVE_HEADING = '## Archive (bench:archive)'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const N = Number(process.env.BENCH_ARCHIVE_EVENTS ?? 200_000)
const BATCH = Number(process.env.BENCH_ARCHIVE_BATCH ?? 5000)
const TARGET = 20_000
/** The archive role's prefetch, as the worker sets it. */
const PREFETCH = archivePrefetch(BATCH)
/** A RabbitMQ policy for the bench queues, e.g. '{"queue-version":2}' (classic queues v2, RabbitMQ >= 3.10). */
const POLICY = process.env.BENCH_ARCHIVE_POLICY ?? ''
const AMQP = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const PG = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const BUCKET = 'bench-archive'
const id = randomBytes(4).toString('hex')
const vhosts = [`bench_archive_${id}_ceiling`, `bench_archive_${id}_archive`]
const schema = `bench_archive_${id}`
const log = pino({ level: 'warn' })
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000))
const cpuSince = (before: NodeJS.CpuUsage) => (({ user, system }) => (user + system) / 1e6)(process.cpuUsage(before))

const STATUSES = ['in_transit', 'out_for_delivery', 'delivered', 'failed_attempt', 'available_for_pickup']
/** Envelopes shaped like the relay's: a third created, the rest located status changes, over 500 packages. */
function envelope(i: number, at: number) {
  const tn = `DT${String(i % 500).padStart(10, '0')}X`
  const recordedAt = new Date(at + i).toISOString()
  if (i % 3 === 0) return { id: randomUUID(), type: 'package.created', trackingNumber: tn, seq: 1, occurredAt: recordedAt, recordedAt, data: { status: 'pending', carrier: 'delivertrack' } }
  const status = STATUSES[i % STATUSES.length]
  return {
    id: randomUUID(),
    type: 'package.status_changed',
    trackingNumber: tn,
    seq: 2 + Math.floor(i / 500),
    occurredAt: new Date(at + i - 60_000).toISOString(),
    recordedAt,
    data: { status, previousStatus: 'in_transit', note: `scan ${i}`, location: { lat: 52.4 + (i % 1000) / 10_000, lng: 13.3 + (i % 700) / 10_000, city: 'Berlin' } },
  }
}

async function load(url: string): Promise<number> {
  const connection = await amqplib.connect(url)
  const channel = await connection.createConfirmChannel()
  const at = Date.now()
  const started = performance.now()
  for (let i = 0; i < N; i++) {
    const e = envelope(i, at)
    if (!channel.publish('delivertrack.events', e.type, Buffer.from(JSON.stringify(e)), { persistent: true, contentType: 'application/json', messageId: e.id })) {
      await new Promise((r) => channel.once('drain', r))
    }
    if (i % 5000 === 4999) await channel.waitForConfirms()
  }
  await channel.waitForConfirms()
  await connection.close()
  return performance.now() - started
}

async function main(): Promise<void> {
  const [ceilingUrl, amqpUrl] = vhosts.map((vhost) => {
    execFileSync('rabbitmqctl', ['-q', 'add_vhost', vhost])
    execFileSync('rabbitmqctl', ['-q', 'set_permissions', '-p', vhost, new URL(AMQP).username || 'guest', '.*', '.*', '.*'])
    if (POLICY) setQueuePolicy(vhost, POLICY, '^delivertrack\\.')
    return Object.assign(new URL(AMQP), { pathname: `/${vhost}` }).toString()
  }) as [string, string]
  const admin = createPool({ url: PG, max: 1 })
  await admin.query(`CREATE SCHEMA ${schema}`)
  const pool = createPool({ url: PG, schema: `${schema},public`, max: 10 })
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-s3-'))
  // s3rver in a process of its own, as S3 would be: its work does not share the worker's event loop.
  const s3rver = spawn(process.execPath, ['-e', `
    const S3rver = require('s3rver')
    new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(dir)}, configureBuckets: [{ name: ${JSON.stringify(BUCKET)} }] })
      .run().then(({ port }) => console.log(port))`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((ok) => s3rver.stdout!.once('data', (d: Buffer) => ok(Number(d.toString().trim()))))
  const endpoint = `http://127.0.0.1:${port}`
  const cleanup = async () => {
    await pool.end().catch(() => undefined)
    await admin.query(`DROP SCHEMA IF EXISTS ${schema}_dispatch, ${schema} CASCADE`).catch(() => undefined)
    await admin.end().catch(() => undefined)
    s3rver.kill()
    rmSync(dir, { recursive: true, force: true })
    for (const vhost of vhosts) {
      try {
        execFileSync('rabbitmqctl', ['-q', 'delete_vhost', vhost])
      } catch {
        // already gone
      }
    }
  }
  try {
    await migrate(pool)
    const config = loadConfig({
      LOG_LEVEL: 'warn',
      AMQP_URL: amqpUrl,
      S3_ENDPOINT: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      ARCHIVE_BUCKET: BUCKET,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      ARCHIVE_BATCH_SIZE: String(BATCH),
      ARCHIVE_BATCH_AGE_MS: '1000',
    })
    // 1. Ceiling: the same queue consumed on a bare amqplib channel with the archive's prefetch,
    // every message acknowledged as it arrives (one `multiple` acknowledgement per read burst,
    // as the archive's consumer acknowledges), nothing else done.
    const ceilingBus = rabbitBus(config, { url: ceilingUrl, instanceId: `bench-${id}-ceiling`, hub: false, running: ['archive'], log })
    await ceilingBus.start()
    await ceilingBus.close()
    console.log(`loading ${N} events...`)
    const loadAvg = loadAverage()
    const publishMeter = new CpuMeter(rabbitmqNode(AMQP)).start()
    const loadMs = await load(ceilingUrl)
    const publishRabbitS = publishMeter.stop()
    const raw = await amqplib.connect(ceilingUrl)
    const rawChannel = await raw.createChannel()
    await rawChannel.prefetch(PREFETCH)
    let seen = 0
    const rawRabbit = new CpuMeter(rabbitmqNode(AMQP)).start()
    const rawCpu = process.cpuUsage()
    let t0 = performance.now()
    await new Promise<void>((done) => {
      let last: amqplib.ConsumeMessage | undefined
      void rawChannel.consume('delivertrack.archive', (m) => {
        if (!m) return
        if (!last) setImmediate(() => {
          rawChannel.ack(last!, true)
          last = undefined
        })
        last = m
        if (++seen === N) setImmediate(done)
      })
    })
    const rawMs = performance.now() - t0
    const rawCpuS = cpuSince(rawCpu)
    const rawRabbitS = rawRabbit.stop()
    await raw.close()
    console.log(`ceiling: ${rate(N, rawMs)} events/s`)

    // 2. The archive consumer, end to end.
    const bus = rabbitBus(config, { instanceId: `bench-${id}`, hub: false, running: ['archive'], log })
    await bus.start()
    await load(amqpUrl)
    const worker = buildWorker({ config, pool, bus, roles: ['archive'], log })
    const consumer = () => worker.consumers[0]!
    const pgProcs = postgresOf(new URL(PG).pathname.slice(1) || 'postgres')
    const meters = [new CpuMeter(rabbitmqNode(AMQP)).start(), new CpuMeter(pgProcs.backends).start(), new CpuMeter(pgProcs.background).start()] as const
    const archiveCpu = process.cpuUsage()
    t0 = performance.now()
    await worker.start()
    let last = performance.now()
    // The longest time nothing was acknowledged (the broker or a dependency stalled).
    let progressAt = performance.now()
    let progress = 0
    let longestPauseMs = 0
    while (consumer().counters.acked < N) {
      await new Promise((r) => setTimeout(r, 20))
      if (consumer().counters.acked !== progress) {
        progress = consumer().counters.acked
        progressAt = performance.now()
      }
      longestPauseMs = Math.max(longestPauseMs, performance.now() - progressAt)
      if (process.env.BENCH_ARCHIVE_TRACE && performance.now() - last > 1000) {
        last = performance.now()
        const a = worker.archive!.counters
        const q = (await bus.queueStats())['delivertrack.archive']
        console.log(`${((last - t0) / 1000).toFixed(1)} s: ready ${q?.messages} consumers ${q?.consumers} acked ${consumer().counters.acked}, in flight ${consumer().inFlight}, objects ${a.objects}, encode ${a.encodeMs.toFixed(0)} ms, ledger ${a.ledgerMs.toFixed(0)} ms, upload ${a.uploadMs.toFixed(0)} ms`)
      }
    }
    const archiveMs = performance.now() - t0
    const archiveCpuS = cpuSince(archiveCpu)
    const [archiveRabbitS, pgBackendsS, pgBackgroundS] = meters.map((m) => m.stop()) as [number, number, number]
    console.log(`CPU per event (load average ${loadAvg}): archive process ${usPer(archiveCpuS, N)}, bare consumer ${usPer(rawCpuS, N)}; RabbitMQ ${usPer(archiveRabbitS, N)} (bare ${usPer(rawRabbitS, N)}, publish ${usPer(publishRabbitS, N)}); PostgreSQL ${usPer(pgBackendsS, N)} + ${usPer(pgBackgroundS, N)}`)
    const counters = { ...worker.archive!.counters }
    console.log(`archive: ${rate(N, archiveMs)} events/s`)
    await worker.stop()
    await bus.close()

    // 3. Read back with hyparquet: each event once.
    const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } })
    const keys: string[] = []
    let token: string | undefined
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }))
      keys.push(...(page.Contents ?? []).map((o) => o.Key!))
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    const ids = new Set<string>()
    let rows = 0
    let bytes = 0
    for (const key of keys) {
      const body = await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray()
      bytes += body.byteLength
      for (const r of (await parquetReadObjects({ file: body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer, columns: ['id'] })) as Array<{ id: string }>) {
        ids.add(r.id)
        rows++
      }
    }
    client.destroy()
    const exact = rows === N && ids.size === N

    const eps = rate(N, archiveMs)
    const ceiling = rate(N, rawMs)
    const section = [
      ARCHIVE_HEADING,
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores, Node ${process.version}, from source (tsx). ${N.toLocaleString('en-US')} events pre-loaded into \`delivertrack.archive\` (durable, persistent messages; loading took ${(loadMs / 1000).toFixed(1)} s), then consumed by the archive role in this process (its BatchConsumer: prefetch ${PREFETCH}, acknowledgements in delivery order, one \`multiple\` ack per burst): batches of ${BATCH} (or 1 s), ledger in PostgreSQL, Parquet (hyparquet-writer, snappy) uploaded with @aws-sdk/client-s3 to s3rver (its own process) on 127.0.0.1. An event counts once its message is acknowledged, i.e. after its object is uploaded and recorded. RabbitMQ, PostgreSQL and s3rver share the machine.`,
      '',
      '| measure | events | seconds | events/s |',
      '| --- | ---: | ---: | ---: |',
      `| ceiling: same queue, bare amqplib channel, prefetch ${PREFETCH}, ack on arrival (one multiple ack per read burst) | ${N} | ${(rawMs / 1000).toFixed(2)} | ${ceiling} |`,
      `| archive consumer end to end (consume, batch, encode, ledger, upload, ack) | ${N} | ${(archiveMs / 1000).toFixed(2)} | ${eps} |`,
      '',
      `- Parquet: ${keys.length} objects, ${bytes.toLocaleString('en-US')} bytes, **${(bytes / N).toFixed(1)} bytes per event** (the JSON envelope is ~${JSON.stringify(envelope(1, Date.now())).length} bytes).`,
      `- Time inside the archive role (summed over batches, overlapping with consumption): encode ${(counters.encodeMs / 1000).toFixed(2)} s, ledger ${(counters.ledgerMs / 1000).toFixed(2)} s, upload ${(counters.uploadMs / 1000).toFixed(2)} s.`,
      `- Longest stretch without an acknowledgement: ${(longestPauseMs / 1000).toFixed(1)} s${longestPauseMs > 3000 ? ' (the broker held deliveries back: see History in docs/benchmarks.md)' : ''}.`,
      `- Read back with hyparquet: ${rows} rows, ${ids.size} distinct ids: ${exact ? 'every event exactly once' : 'MISMATCH'}.`,
      `- ${eps} events/s is ${Math.round((eps / ceiling) * 100)}% of the ceiling: ${eps >= TARGET ? 'PASS' : 'FAIL'} (target >= ${TARGET.toLocaleString('en-US')} events/s)${eps < TARGET && ceiling < TARGET ? `; the ceiling itself (${ceiling} events/s) is below the target on this machine` : ''}.`,
      '',
    ].join('\n')
    console.log(section)
    if (process.env.BENCH_ARCHIVE_WRITE === '0') return
    const fmt = (n: number) => n.toLocaleString('en-US')
    const events = `${fmt(N)} events`
    writeResults('npm run bench:archive', [
      { figure: `ceiling: bare amqplib consumer on the same queue, prefetch ${fmt(PREFETCH)}, ${events}`, value: `${fmt(ceiling)} events/s (${(rawMs / 1000).toFixed(2)} s)`, baseline: 'baseline' },
      {
        figure: `archive role end to end (consume, batch of ${fmt(BATCH)}, encode, ledger, upload, ack), from source, ${events}`,
        value: `${fmt(eps)} events/s (${(archiveMs / 1000).toFixed(2)} s)`,
        baseline: `${Math.round((eps / ceiling) * 100)}% of ceiling`,
        target: `>= ${fmt(TARGET)} events/s: ${eps >= TARGET ? 'PASS' : 'FAIL'}`,
      },
      { figure: 'Parquet written', value: `${(bytes / N).toFixed(1)} bytes per event (${keys.length} objects; the JSON envelope is ~${JSON.stringify(envelope(1, Date.now())).length} bytes)` },
      { figure: 'read back with hyparquet', value: `${fmt(rows)} rows, ${fmt(ids.size)} distinct ids`, target: `every event exactly once: ${exact ? 'PASS' : 'FAIL'}` },
      {
        figure: 'CPU per event: archive process, RabbitMQ node (whole, shared), PostgreSQL',
        value: `archive ${usPer(archiveCpuS, N)} (bare consumer ${usPer(rawCpuS, N)}); RabbitMQ ${usPer(archiveRabbitS, N)} per delivery (bare ${usPer(rawRabbitS, N)}), ${usPer(publishRabbitS, N)} per persistent confirmed publish; PostgreSQL ${usPer(pgBackendsS + pgBackgroundS, N)} (load ${loadAvg})`,
        baseline: `per core: ${perCore(archiveCpuS, N)} events/s archived, ${perCore(rawCpuS, N)} consumed bare`,
        target: 'informative',
      },
      { figure: 'longest stretch without an acknowledgement', value: `${(longestPauseMs / 1000).toFixed(1)} s`, target: 'informative' },
      {
        figure: 'time inside the archive role, summed over batches',
        value: `encode ${(counters.encodeMs / 1000).toFixed(2)} s, ledger ${(counters.ledgerMs / 1000).toFixed(2)} s, upload ${(counters.uploadMs / 1000).toFixed(2)} s`,
        target: 'informative',
      },
    ])
    console.log(`wrote the rows of bench:archive in ${BENCHMARKS_MD}`)
    if (!exact) process.exitCode = 1
  } finally {
    await cleanup()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
