// For `npm run bench:api`: stands in for the workers (cmd/worker) during the status-update
// runs. It consumes the gateway's durable worker queues and acknowledges messages the way
// the workers do, without doing their work (no S3 upload, no SNS, no webhook call):
//   - the archive queue on a channel of its own with the archive's prefetch (three batches),
//     acknowledging a whole batch at once (one `multiple` ack) when it reaches
//     ARCHIVE_BATCH_SIZE messages or ARCHIVE_BATCH_AGE_MS, as the archive does once the
//     batch is uploaded (the upload itself is not waited for here);
//   - the other queues (notify, webhooks) with WORKER_PREFETCH, each message acknowledged
//     on its own as soon as it arrives, as rascal does after a handler with nothing to do
//     (no SNS topic, no webhook endpoint).
// So RabbitMQ works as it does while workers keep up. With no consumer the queues only
// grow, and RabbitMQ spends more per message on the backlog; bench:api measures that too.
//
// Environment: AMQP_URL; ARCHIVE_QUEUE (may be empty), ARCHIVE_PREFETCH, ARCHIVE_BATCH_SIZE,
// ARCHIVE_BATCH_AGE_MS; QUEUES (comma list, acknowledged one by one), WORKER_PREFETCH;
// PORT and HOST for GET /ready, which answers 200 with {"acked", "depth"} once every queue
// is being consumed (503 before); `depth` is each queue's ready messages, asked of the broker.
// Exits 1 if the broker connection fails, so the benchmark notices a stand-in that stopped.
// Plain JavaScript on purpose, like bare-server.js: plain `node`, nothing compiled first.
import http from 'node:http'
import amqplib from 'amqplib'

const env = process.env
const archiveQueue = env.ARCHIVE_QUEUE || ''
const queues = (env.QUEUES ?? '').split(',').filter(Boolean)
const batchSize = Number(env.ARCHIVE_BATCH_SIZE || 5000)
const batchAgeMs = Number(env.ARCHIVE_BATCH_AGE_MS || 60_000)
let consuming = false
let acked = 0

const fail = (what, err) => {
  console.error(`worker stand-in: ${what}: ${err?.message ?? err}`)
  process.exit(1)
}
const connection = await amqplib.connect(env.AMQP_URL, { noDelay: true }).catch((err) => fail('cannot connect', err))
connection.on('error', (err) => fail('connection error', err))
connection.on('close', () => fail('connection closed', 'the broker closed it'))
const channel = async (prefetch) => {
  const ch = await connection.createChannel()
  ch.on('error', (err) => fail('channel error', err))
  await ch.prefetch(prefetch)
  return ch
}

async function depths() {
  const ch = await connection.createChannel()
  ch.on('error', () => undefined)
  const out = {}
  try {
    for (const q of [archiveQueue, ...queues].filter(Boolean)) out[q] = (await ch.checkQueue(q)).messageCount
  } finally {
    await ch.close().catch(() => undefined)
  }
  return out
}

const server = http.createServer((req, res) => {
  const answer = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  if (!consuming) return answer(503, { acked })
  depths().then((depth) => answer(200, { acked, depth }), (err) => answer(500, { error: err.message }))
})
await new Promise((ok) => server.listen(Number(env.PORT || 0), env.HOST || '127.0.0.1', ok))

// checkQueue: the gateway declares these queues; a missing one is a setup error, not something to create here.
if (archiveQueue) {
  const ch = await channel(Number(env.ARCHIVE_PREFETCH || batchSize * 3))
  await ch.checkQueue(archiveQueue)
  let last = null
  let count = 0
  let timer
  const flush = () => {
    clearTimeout(timer)
    timer = undefined
    if (last === null) return
    ch.ack(last, true)
    acked += count
    last = null
    count = 0
  }
  await ch.consume(archiveQueue, (message) => {
    if (message === null) return fail('consumer cancelled', archiveQueue)
    last = message
    count++
    if (count >= batchSize) flush()
    else timer ??= setTimeout(flush, batchAgeMs)
  })
}
if (queues.length > 0) {
  const ch = await channel(Number(env.WORKER_PREFETCH || 32))
  for (const queue of queues) {
    await ch.checkQueue(queue)
    await ch.consume(queue, (message) => {
      if (message === null) return fail('consumer cancelled', queue)
      ch.ack(message)
      acked++
    })
  }
}
consuming = true

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    connection.removeAllListeners('close')
    connection.close().finally(() => process.exit(0))
  })
}
