import { randomUUID } from 'node:crypto'
import t from 'tap'
import { isolate } from '../platform/testing/harness.js'
import { PostgresArchiveLedger } from './postgres.js'
import { ClaimConflict } from './ports.js'

t.test('the ledger: claims, pending bytes, upload marks, conflicts and pruning', async (t) => {
  const { pool } = await isolate(t)
  const ledger = new PostgresArchiveLedger(pool)
  const a = [randomUUID(), randomUUID()]
  const b = [randomUUID()]
  await ledger.record([{ key: 'k/a.parquet', body: new Uint8Array([1, 2, 3]), ids: a }, { key: 'k/b.parquet', body: new Uint8Array([4]), ids: b }])
  t.same(await ledger.claims([...a, ...b, randomUUID()]), new Map([[a[0], { key: 'k/a.parquet', uploaded: false }], [a[1], { key: 'k/a.parquet', uploaded: false }], [b[0], { key: 'k/b.parquet', uploaded: false }]]))
  t.same(await ledger.body('k/a.parquet'), new Uint8Array([1, 2, 3]), 'a pending batch keeps its bytes')
  await t.rejects(ledger.record([{ key: 'k/c.parquet', body: new Uint8Array([5]), ids: [randomUUID(), a[0]!] }]), ClaimConflict)
  t.equal((await ledger.claims([a[0]!])).get(a[0]!)?.key, 'k/a.parquet', 'a conflicting batch is not recorded at all')

  await ledger.markUploaded(['k/a.parquet'])
  t.equal(await ledger.body('k/a.parquet'), null, 'the bytes are dropped once uploaded')
  t.same((await ledger.claims(a)).get(a[1]!), { key: 'k/a.parquet', uploaded: true })
  t.equal(await ledger.prune(new Date(Date.now() + 60_000)), 1, 'only uploaded batches are pruned')
  t.equal((await ledger.claims(a)).size, 0)
  t.equal((await ledger.claims(b)).size, 1, 'the pending batch stays')
})
