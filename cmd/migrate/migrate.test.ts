import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { migrate } from '../../internal/platform/db/migrate.js'
import { createPool } from '../../internal/platform/db/postgres.js'
import { projectRoot } from '../../internal/platform/paths.js'
import { eventually } from '../../internal/platform/testing/broker.js'
import { serviceUrls } from '../../internal/platform/testing/services.js'

// `migrate --check` and `--wait`, as the Kubernetes initContainers run them (deployments/k8s).

const { databaseUrl } = await serviceUrls()
const schema = `test_migwait_${randomBytes(5).toString('hex')}`
const admin = createPool({ url: databaseUrl, max: 1 })
await admin.query(`CREATE SCHEMA ${schema}`)
const pool = createPool({ url: databaseUrl, schema, max: 1 })
t.teardown(async () => {
  await pool.end()
  await admin.query(`DROP SCHEMA IF EXISTS ${schema}_dispatch, ${schema} CASCADE`)
  await admin.end()
})

// The compiled main.js beside the compiled test (make test), or main.ts through tsx from source.
const main = fileURLToPath(new URL(`./main${extname(import.meta.url)}`, import.meta.url))
const runner = main.endsWith('.ts') ? ['--import', 'tsx'] : []

function run(args: string[]): { exited: Promise<number>; output: () => string } {
  const url = new URL(databaseUrl)
  url.searchParams.set('options', `-c search_path=${schema}`)
  const child = spawn(process.execPath, [...runner, main, ...args], {
    cwd: projectRoot(),
    env: { PATH: process.env.PATH, NODE_ENV: 'test', DATABASE_URL: url.toString() },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  t.teardown(() => void child.kill('SIGKILL'))
  return { exited: new Promise((resolve) => child.on('exit', (code) => resolve(code ?? -1))), output: () => out }
}

t.test('--check fails and --wait waits until the schema has every shipped migration', async (t) => {
  const check = run(['--check'])
  const wait = run(['--wait'])
  t.equal(await check.exited, 3, `--check on an empty schema exits 3 (output: ${check.output()})`)
  t.match(check.output(), /pending: \d+ migrations, 0001_init\.sql to /)
  await eventually(() => /waiting for \d+ migrations, 0001_init\.sql to /.test(wait.output()), '--wait to say what it waits for', 30_000)
  t.equal((await admin.query(`SELECT to_regclass('${schema}.schema_migrations') AS t`)).rows[0]!.t, null, 'waiting applied nothing')

  await migrate(pool)
  t.equal(await wait.exited, 0, `--wait returns once migrated (output: ${wait.output()})`)
  t.match(wait.output(), /schema has every migration of this build/)
})
