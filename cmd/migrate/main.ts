import { loadConfig } from '../../internal/config/config.js'
import { migrate } from '../../internal/platform/db/migrate.js'
import { connectPostgres } from '../../internal/platform/startup.js'

// `npm run migrate`: applies pending migrations and exits.
try {
  const config = loadConfig()
  const pool = await connectPostgres(config)
  const { applied, current } = await migrate(pool)
  console.log(applied.length ? `applied ${applied.join(', ')}; schema at ${current}` : `schema up to date at ${current}`)
  await pool.end()
} catch (err) {
  console.error(`delivertrack migrate: ${(err as Error).message}`)
  process.exit(1)
}
