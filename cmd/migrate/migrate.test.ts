import { spawn } from 'node:child_process'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { migrate } from '../../internal/platform/db/migrate.js'
import { projectRoot } from '../../internal/platform/paths.js'
import { eventually } from '../../internal/platform/testing/broker.js'
import { emptySchema } from '../../internal/platform/testing/harness.js'

// `migrate --check` and `--wait`, as the Kubernetes initContainers run them (deployments/k8s).

const { schema, databaseUrl, pool: newPool } = await emptySchema(t, 'test_migwait')
const pool = newPool(1)

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
  t.equal((await pool.query(`SELECT to_regclass('${schema}.schema_migrations') AS t`)).rows[0]!.t, null, 'waiting applied nothing')

  await migrate(pool)
  t.equal(await wait.exited, 0, `--wait returns once migrated (output: ${wait.output()})`)
  t.match(wait.output(), /schema has every migration of this build/)
})
