import { spawn } from 'node:child_process'
import t from 'tap'
import { loadConfig } from '../config/config.js'
import { projectRoot } from './paths.js'
import { StartupError, connectDependencies, connectPostgres, connectRedis } from './startup.js'
import { serviceUrls } from './testing/services.js'

// What the person starting the gateway sees when a dependency is missing.

const CLOSED_PG = 'postgres://postgres@127.0.0.1:1/x'
const CLOSED_REDIS = 'redis://127.0.0.1:1'

t.test('connectPostgres names PostgreSQL, the address and how to start it', async (t) => {
  const err = await connectPostgres(loadConfig({ DATABASE_URL: CLOSED_PG })).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(err instanceof StartupError, 'a StartupError')
  const message = (err as Error).message
  t.match(message, /PostgreSQL/)
  t.match(message, /127\.0\.0\.1:1\b/)
  t.match(message, /ECONNREFUSED/, 'says why')
  t.match(message, /start/i, 'says how to start it')
  t.match(message, /DATABASE_URL/, 'names the variable to change')
  t.notMatch(message, /\n/, 'one line')
})

t.test('connectRedis names Redis, the address and how to start it', async (t) => {
  const err = await connectRedis(loadConfig({ REDIS_URL: CLOSED_REDIS })).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(err instanceof StartupError, 'a StartupError')
  const message = (err as Error).message
  t.match(message, /Redis/)
  t.match(message, /127\.0\.0\.1:1\b/)
  t.match(message, /ECONNREFUSED/, 'says why (not just "Connection is closed")')
  t.match(message, /start/i, 'says how to start it')
  t.match(message, /REDIS_URL/)
  t.notMatch(message, /\n/, 'one line')
})

t.test('credentials in the URL are not printed', async (t) => {
  const err = await connectPostgres(loadConfig({ DATABASE_URL: 'postgres://admin:hunter2secret@127.0.0.1:1/x' })).catch((e: Error) => e)
  t.match((err as Error).message, /127\.0\.0\.1:1/)
  t.notMatch((err as Error).message, /hunter2secret/)
})

t.test('a server without the database says which database is missing and how to create it', async (t) => {
  const urls = await serviceUrls()
  const url = new URL(urls.databaseUrl)
  url.pathname = '/delivertrack_no_such_db'
  url.search = ''
  const err = await connectPostgres(loadConfig({ DATABASE_URL: url.toString() })).catch((e: Error) => e)
  t.match(err, { startup: true })
  t.match((err as Error).message, /has no database "delivertrack_no_such_db"/)
  t.match((err as Error).message, /createdb .*delivertrack_no_such_db/)
  t.notMatch((err as Error).message, /unreachable/)
})

t.test('connectDependencies connects both, or names the missing one', async (t) => {
  const urls = await serviceUrls()
  const ok = await connectDependencies(loadConfig({ DATABASE_URL: urls.databaseUrl, REDIS_URL: urls.redisUrl }))
  t.same((await ok.pool.query<{ one: number }>('SELECT 1 AS one')).rows, [{ one: 1 }])
  t.equal(await ok.redis.ping(), 'PONG')
  await ok.pool.end()
  ok.redis.disconnect()

  await t.rejects(connectDependencies(loadConfig({ DATABASE_URL: urls.databaseUrl, REDIS_URL: CLOSED_REDIS })), { startup: true, message: /Redis is unreachable/ })
  await t.rejects(connectDependencies(loadConfig({ DATABASE_URL: CLOSED_PG, REDIS_URL: urls.redisUrl })), { startup: true, message: /PostgreSQL is unreachable/ })
  const both = await connectDependencies(loadConfig({ DATABASE_URL: CLOSED_PG, REDIS_URL: CLOSED_REDIS })).catch((e: Error) => e)
  t.match(both, { startup: true, message: /PostgreSQL is unreachable at 127\.0\.0\.1:1\b.* Redis is unreachable at 127\.0\.0\.1:1\b/ }, 'both down: both named, so one restart is enough')
})

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function runGateway(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'cmd/gateway/main.ts'], {
      cwd: projectRoot(),
      env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    // A gateway that unexpectedly starts would run forever; the assertion below then fails.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(guard)
      resolve({ code, stdout, stderr })
    })
  })
}

/** The process's own lines, without npm's notices about its own configuration. */
const ownLines = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !/^npm (warn|notice)/i.test(l))

t.test('the gateway binary exits non-zero with one clear line when PostgreSQL is away', async (t) => {
  const urls = await serviceUrls()
  const run = await runGateway({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres', REDIS_URL: urls.redisUrl, AMQP_URL: urls.amqpUrl })
  t.not(run.code, 0, 'non-zero exit')
  t.not(run.code, null, 'exited by itself')
  const lines = [...ownLines(run.stderr), ...ownLines(run.stdout)]
  t.equal(lines.length, 1, `one line, got:\n${lines.join('\n')}`)
  t.match(lines[0], /PostgreSQL/)
  t.match(lines[0], /127\.0\.0\.1:1\b/)
  t.notMatch(run.stderr, /\n\s+at /, 'no stack trace')
})

t.test('the gateway binary names Redis when only Redis is away', async (t) => {
  const urls = await serviceUrls()
  const run = await runGateway({ DATABASE_URL: urls.databaseUrl, REDIS_URL: CLOSED_REDIS, AMQP_URL: urls.amqpUrl })
  t.not(run.code, 0)
  const lines = [...ownLines(run.stderr), ...ownLines(run.stdout)]
  t.equal(lines.length, 1, `one line, got:\n${lines.join('\n')}`)
  t.match(lines[0], /Redis/)
  t.match(lines[0], /127\.0\.0\.1:1\b/)
  t.match(lines[0], /ECONNREFUSED/)
})

t.test('the gateway binary refuses some of the service URLs without the others, naming them', async (t) => {
  const run = await runGateway({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', REDIS_URL: '', AMQP_URL: '' })
  t.not(run.code, 0)
  const lines = [...ownLines(run.stderr), ...ownLines(run.stdout)]
  t.equal(lines.length, 1, `one line, got:\n${lines.join('\n')}`)
  t.match(lines[0], /DATABASE_URL is set but REDIS_URL and AMQP_URL are not/)
})

t.test('the gateway binary reports a bad variable by name', async (t) => {
  const run = await runGateway({ PORT: 'not-a-port' })
  t.not(run.code, 0)
  const lines = [...ownLines(run.stderr), ...ownLines(run.stdout)]
  t.equal(lines.length, 1, `one line, got:\n${lines.join('\n')}`)
  t.match(lines[0], /PORT/)
})
