// The ceiling for `npm run bench:api`: a bare Fastify route returning a small JSON,
// run with plain `node` (no tsx) under the same NODE_ENV, node flags and log level
// as the gateway. Plain JavaScript on purpose, so nothing has to be compiled first.
import Fastify from 'fastify'

const app = Fastify({ logger: { level: process.env.LOG_LEVEL || 'warn' } })

app.get('/', async () => ({ status: 'ok', service: 'bare' }))

// Exit cleanly on SIGTERM so `--cpu-prof` (BENCH_CPU_PROF_DIR) can write its profile.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  })
}

await app.listen({ port: Number(process.env.PORT || 3000), host: process.env.HOST || '127.0.0.1' })
