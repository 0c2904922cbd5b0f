import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { isEmbedded, loadConfig } from '../../internal/config/config.js'
import { migrate, pendingMigrations } from '../../internal/platform/db/migrate.js'
import { openEmbeddedDatabase } from '../../internal/platform/db/pglite.js'
import { connectPostgres } from '../../internal/platform/startup.js'

// `npm run migrate`: applies pending migrations and exits (embedded: to DATA_DIR's database).
// `--check` applies nothing and exits 3 while any migration this build ships is missing;
// `--wait` applies nothing and returns once none is (a Kubernetes initContainer waiting
// for the migration Job, deployments/k8s/README.md).
const PENDING_EXIT = 3
const WAIT_POLL_MS = 2000

try {
  const { values } = parseArgs({ options: { check: { type: 'boolean' }, wait: { type: 'boolean' } } })
  const config = loadConfig()
  const db = isEmbedded() ? await openEmbeddedDatabase({ dataDir: join(resolve(config.DATA_DIR), 'postgres') }) : undefined
  const pool = db?.pool ?? (await connectPostgres(config))
  let code = 0
  if (values.check || values.wait) {
    let pending = await pendingMigrations(pool)
    let said = ''
    while (values.wait && pending.length > 0) {
      const line = `waiting for ${describe(pending)}`
      if (line !== said) console.log((said = line))
      await sleep(WAIT_POLL_MS)
      pending = await pendingMigrations(pool)
    }
    if (pending.length > 0) {
      console.log(`pending: ${describe(pending)}`)
      code = PENDING_EXIT
    } else {
      console.log('schema has every migration of this build')
    }
  } else {
    const { applied, current } = await migrate(pool)
    console.log(applied.length ? `applied ${applied.join(', ')}; schema at ${current}` : `schema up to date at ${current}`)
  }
  if (db) await db.close()
  else await pool.end()
  process.exitCode = code
} catch (err) {
  console.error(`delivertrack migrate: ${(err as Error).message}`)
  process.exit(1)
}

function describe(pending: string[]): string {
  return pending.length === 1 ? `migration ${pending[0]}` : `${pending.length} migrations, ${pending[0]} to ${pending.at(-1)}`
}
