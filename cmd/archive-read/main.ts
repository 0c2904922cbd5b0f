import { parseArgs } from 'node:util'
import { FileObjectStore } from '../../internal/archive/fs.js'
import type { ManagedObjectStore } from '../../internal/archive/ports.js'
import { S3ObjectStore } from '../../internal/archive/s3.js'
import { ParquetCodec } from '../../internal/archive/parquet.js'
import { readArchive, rowToJson } from '../../internal/archive/reader.js'
import { ConfigError, isEmbedded, loadConfig } from '../../internal/config/config.js'

const USAGE = `usage: npm run archive:read -- --from YYYY-MM-DD --to YYYY-MM-DD [--type package.status_changed] [--tracking-number TN] [--count]
Prints the archived events recorded on those UTC days (both included) as JSON lines.`

// Reads the Parquet archive back from where a process with the same environment
// writes it: DATA_DIR/archive when none of the service URLs is set (the embedded
// gateway), else the S3 bucket (S3_ENDPOINT / ARCHIVE_BUCKET / AWS_* as for the
// worker, which needs no REDIS_URL).
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { from: { type: 'string' }, to: { type: 'string' }, type: { type: 'string' }, 'tracking-number': { type: 'string' }, count: { type: 'boolean' }, help: { type: 'boolean' } },
  })
  if (values.help) return void console.log(USAGE)
  const from = day(values.from, '--from')
  const to = values.to ? day(values.to, '--to') : from
  if (to < from) throw new ConfigError('--to is before --from')
  const config = loadConfig()
  const embedded = isEmbedded()
  const store: ManagedObjectStore = embedded ? FileObjectStore.fromConfig(config) : S3ObjectStore.fromConfig(config)
  const tn = values['tracking-number']?.trim().toUpperCase()
  let rows = 0
  const objects = new Set<string>()
  try {
    for await (const { key, row } of readArchive(store, new ParquetCodec(), { from, to })) {
      if (values.type && row.type !== values.type) continue
      if (tn && row.trackingNumber !== tn) continue
      rows++
      objects.add(key)
      if (!values.count) process.stdout.write(`${JSON.stringify(rowToJson(row))}\n`)
    }
  } finally {
    store.close()
  }
  if (values.count) console.log(rows)
  const mode = embedded ? ' (embedded mode: none of DATABASE_URL, REDIS_URL, AMQP_URL is set)' : ''
  console.error(`${rows} events from ${objects.size} objects in ${store.location}${mode}, ${values.from} to ${values.to ?? values.from}`)
}

function day(value: string | undefined, flag: string): Date {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new ConfigError(`${flag} must be a date YYYY-MM-DD\n${USAGE}`)
  return new Date(`${value}T00:00:00Z`)
}

main().catch((err: unknown) => {
  console.error(`archive:read: ${err instanceof ConfigError ? err.message : (err as Error).stack ?? String(err)}`)
  process.exit(1)
})
