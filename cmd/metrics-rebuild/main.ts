import { join, resolve } from 'node:path'
import { rebuildMetrics } from '../../internal/app/metrics-rebuild.js'
import { isEmbedded, loadConfig } from '../../internal/config/config.js'
import { migrate } from '../../internal/platform/db/migrate.js'
import { openEmbeddedDatabase } from '../../internal/platform/db/pglite.js'
import { connectPostgres } from '../../internal/platform/startup.js'

// `npm run metrics:rebuild`: recomputes the charts' daily aggregates from the event
// log in one transaction; live counting by the metrics role waits meanwhile and then
// goes on from there. Embedded: DATA_DIR's database, while the gateway is stopped.
try {
  const config = loadConfig()
  const db = isEmbedded() ? await openEmbeddedDatabase({ dataDir: join(resolve(config.DATA_DIR), 'postgres') }) : undefined
  const pool = db?.pool ?? (await connectPostgres(config))
  try {
    await migrate(pool)
    const started = performance.now()
    const { packages, events } = await rebuildMetrics(pool)
    console.log(`metrics rebuilt from ${events} events of ${packages} packages in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  } finally {
    if (db) await db.close()
    else await pool.end()
  }
} catch (err) {
  console.error(`delivertrack metrics:rebuild: ${(err as Error).message}`)
  process.exit(1)
}
