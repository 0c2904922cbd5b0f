import { join, resolve } from 'node:path'
import { isEmbedded, loadConfig } from '../../internal/config/config.js'
import { migrate } from '../../internal/platform/db/migrate.js'
import { openEmbeddedDatabase } from '../../internal/platform/db/pglite.js'
import { connectPostgres } from '../../internal/platform/startup.js'

// `npm run migrate`: applies pending migrations and exits (embedded: to DATA_DIR's database).
try {
  const config = loadConfig()
  const db = isEmbedded() ? await openEmbeddedDatabase({ dataDir: join(resolve(config.DATA_DIR), 'postgres') }) : undefined
  const pool = db?.pool ?? (await connectPostgres(config))
  const { applied, current } = await migrate(pool)
  console.log(applied.length ? `applied ${applied.join(', ')}; schema at ${current}` : `schema up to date at ${current}`)
  if (db) await db.close()
  else await pool.end()
} catch (err) {
  console.error(`delivertrack migrate: ${(err as Error).message}`)
  process.exit(1)
}
