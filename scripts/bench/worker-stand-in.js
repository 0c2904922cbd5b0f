// For `npm run bench:api`: stands in for the workers (cmd/worker) during the status-update
// runs. It consumes the gateway's durable worker queues and acknowledges each message one by
// one (prefetch 32, the workers' default), so RabbitMQ works as it does while workers keep up:
// messages delivered and acknowledged as they arrive. With no consumer the queues only grow,
// and RabbitMQ spends more per message on the backlog; bench:api measures that case too.
// It does none of the workers' own work (archive, notifications, webhooks).
//
// Environment: AMQP_URL, QUEUES (comma list), PORT and HOST for GET /ready, which answers
// 200 with {"acked": n} once every queue is being consumed (503 before). Exits 1 if the
// broker connection fails, so the benchmark notices a stand-in that stopped consuming.
// Plain JavaScript on purpose, like bare-server.js: plain `node`, nothing compiled first.
import http from 'node:http'
import amqplib from 'amqplib'

const queues = (process.env.QUEUES ?? '').split(',').filter(Boolean)
const prefetch = Number(process.env.PREFETCH || 32)
let consuming = false
let acked = 0

const server = http.createServer((req, res) => {
  res.writeHead(consuming ? 200 : 503, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ acked, queues }))
})
await new Promise((ok) => server.listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1', ok))

const fail = (what, err) => {
  console.error(`worker stand-in: ${what}: ${err?.message ?? err}`)
  process.exit(1)
}
const connection = await amqplib.connect(process.env.AMQP_URL, { noDelay: true }).catch((err) => fail('cannot connect', err))
connection.on('error', (err) => fail('connection error', err))
connection.on('close', () => fail('connection closed', 'the broker closed it'))
const channel = await connection.createChannel()
channel.on('error', (err) => fail('channel error', err))
await channel.prefetch(prefetch)
for (const queue of queues) {
  // checkQueue: the gateway declares these queues; a missing one is a setup error, not something to create here.
  await channel.checkQueue(queue)
  await channel.consume(queue, (message) => {
    if (message === null) return fail('consumer cancelled', queue)
    channel.ack(message)
    acked++
  })
}
consuming = true

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    connection.removeAllListeners('close')
    connection.close().finally(() => process.exit(0))
  })
}
