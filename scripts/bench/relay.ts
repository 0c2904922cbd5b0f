/**
 * `npm run bench:relay`: how fast the outbox relay empties a backlog into
 * RabbitMQ. BENCH_RELAY_EVENTS unpublished events (default 100,000, over 1,000
 * packages) are written to package_events in a schema of the run's own; the relay
 * (PostgresOutbox + RabbitBus, as a gateway runs it) publishes them with confirms
 * and stamps them. The ceiling, in the same run and vhost topology: one bare
 * amqplib confirm channel publishing the same envelopes in batches of the relay's
 * size, nothing else done. Both publish to the gateway's topology (three durable
 * worker queues), each in a vhost of its own.
 * Replaces the rows of bench:relay in docs/benchmarks.md (not with BENCH_RELAY_WRITE=0).
 */
import { randomBytes } from 'node:crypto'
import amqplib from 'amqplib'
import { rabbitBus } from '../../internal/app/bus.js'
import { loadConfig } from '../../internal/config/config.js'
import { EXCHANGE } from '../../internal/events/bus-rabbitmq-topology.js'
import { OutboxRelay } from '../../internal/events/relay.js'
import { PostgresOutbox } from '../../internal/events/outbox-postgres.js'
import { migrate } from '../../internal/platform/db/migrate.js'
import { createPool } from '../../internal/platform/db/postgres.js'
import { recreateVhost, writeResults } from './support.js'

const N = Number(process.env.BENCH_RELAY_EVENTS ?? 100_000)
const PACKAGES = 1_000
const BATCH = 500
const PG = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const id = randomBytes(4).toString('hex')
const schema = `bench_relay_${id}`
const quiet = { info: () => undefined, warn: (o: object, m: string) => console.warn(m, o), error: (o: object, m: string) => console.error(m, o) }
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000))

async function main(): Promise<void> {
  const ceilingUrl = recreateVhost(`bench_relay_${id}_ceiling`)
  const relayUrl = recreateVhost(`bench_relay_${id}_relay`)
  if (!ceilingUrl || !relayUrl) throw new Error('bench:relay needs rabbitmqctl to make its vhosts (run as root)')
  const admin = createPool({ url: PG, max: 1 })
  await admin.query(`CREATE SCHEMA ${schema}`)
  const pool = createPool({ url: PG, schema: `${schema},public`, max: 10 })
  try {
    await migrate(pool)
    console.log(`writing ${N} unpublished events over ${PACKAGES} packages...`)
    await pool.query(
      `INSERT INTO packages (tracking_number, status, carrier, sender, recipient, last_seq)
       SELECT 'BR' || lpad(g::text, 9, '0'), 'in_transit', 'bench', '{"name": "s"}', '{"name": "r"}', $1::int FROM generate_series(1, $2::int) g`,
      [N / PACKAGES, PACKAGES],
    )
    await pool.query(
      `INSERT INTO package_events (id, package_id, seq, type, tracking_number, occurred_at, recorded_at, data)
       SELECT gen_random_uuid(), p.id, s, 'package.status_changed', p.tracking_number, now(), now() + make_interval(secs => s),
              jsonb_build_object('status', 'in_transit', 'previousStatus', 'in_transit', 'note', 'scan ' || s, 'location', jsonb_build_object('lat', 52.5, 'lng', 13.4, 'city', 'Berlin'))
       FROM packages p CROSS JOIN generate_series(1, $1::int) s`,
      [N / PACKAGES],
    )
    await pool.query('VACUUM ANALYZE package_events')
    const config = loadConfig({ LOG_LEVEL: 'warn', WORKER_QUEUES: 'archive,notify,webhooks' })

    // 1. Ceiling: the same envelopes on one bare confirm channel, a batch at a time.
    const declare = rabbitBus(config, { url: ceilingUrl, instanceId: `bench-${id}-declare`, hub: false, log: quiet })
    await declare.start()
    await declare.close()
    const { rows } = await pool.query<{ id: string; seq: number; tracking_number: string; data: object }>('SELECT id, seq, tracking_number, data FROM package_events ORDER BY recorded_at, package_id, seq')
    const at = new Date().toISOString()
    const bodies = rows.map((r) => ({ id: r.id, body: Buffer.from(JSON.stringify({ id: r.id, type: 'package.status_changed', trackingNumber: r.tracking_number, seq: r.seq, occurredAt: at, recordedAt: at, data: r.data })) }))
    const connection = await amqplib.connect(ceilingUrl, { noDelay: true })
    const channel = await connection.createConfirmChannel()
    let t0 = performance.now()
    for (let i = 0; i < bodies.length; i += BATCH) {
      for (const b of bodies.slice(i, i + BATCH)) channel.publish(EXCHANGE, 'package.status_changed', b.body, { persistent: true, contentType: 'application/json', messageId: b.id })
      await channel.waitForConfirms()
    }
    const ceilingMs = performance.now() - t0
    await connection.close()
    console.log(`ceiling (bare confirm channel): ${rate(N, ceilingMs)} events/s`)

    // 2. The relay, as a gateway runs it.
    const bus = rabbitBus(config, { url: relayUrl, instanceId: `bench-${id}`, hub: false, log: quiet })
    await bus.start()
    const relay = new OutboxRelay({ outbox: new PostgresOutbox(pool, { listen: false, log: quiet }), bus, log: quiet, batchSize: BATCH, coalesceMs: 0 })
    t0 = performance.now()
    await relay.start()
    while (relay.published < N) {
      await new Promise((r) => setTimeout(r, 20))
      relay.kick()
    }
    const relayMs = performance.now() - t0
    await relay.stop()
    await bus.close()
    const { rows: left } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM package_events WHERE published_at IS NULL')
    if (left[0]!.n !== 0) throw new Error(`${left[0]!.n} events left unpublished`)
    console.log(`relay (claim, publish with confirms, stamp): ${rate(N, relayMs)} events/s, ${(rate(N, relayMs) / rate(N, ceilingMs)).toFixed(2)} of the ceiling`)
    if (process.env.BENCH_RELAY_WRITE !== '0') {
      writeResults('npm run bench:relay', [
        { figure: `outbox relay, backlog of ${N.toLocaleString('en')} events`, value: `${rate(N, relayMs).toLocaleString('en')} events/s`, baseline: `${(rate(N, relayMs) / rate(N, ceilingMs)).toFixed(2)} of a bare confirm channel (${rate(N, ceilingMs).toLocaleString('en')}/s)`, target: 'informative' },
      ])
    }
  } finally {
    await pool.end()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema}_dispatch, ${schema} CASCADE`)
    await admin.end()
    recreateVhost(`bench_relay_${id}_ceiling`, false)
    recreateVhost(`bench_relay_${id}_relay`, false)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
