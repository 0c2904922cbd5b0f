import type { Delivery, RoleHandler, RoleLogger as WorkerLogger } from '../events/roles.js'
import { groupByHour, objectKey, toRow, type ArchiveRow } from './domain.js'
import { ClaimConflict, type ArchiveLedger, type Claim, type ObjectStore, type RowCodec } from './ports.js'

export interface ArchiveDeps {
  store: ObjectStore
  ledger: ArchiveLedger
  codec: RowCodec
  /** A batch is cut at this many events... */
  batchSize: number
  /** ...or when its first event has waited this long. */
  batchAgeMs: number
  /** Uploaded batches are forgotten by the ledger after this long (duplicates older than that are no longer caught). */
  retentionMs: number
  log: WorkerLogger
}

interface Waiting {
  row: ArchiveRow
  resolve(): void
  reject(err: unknown): void
}

/**
 * The archive role: events are batched by count or age and written as Parquet
 * objects, one per UTC hour of the batch. Each event's promise resolves (and its
 * message is acknowledged) only after its object is uploaded. The ledger makes it
 * exactly-once by event id: an event already in an uploaded object is not written
 * again, and a batch recorded but not confirmed uploaded (a crash, S3 down) is
 * uploaded again byte for byte under its own key when its events come back.
 */
export class ArchiveService implements RoleHandler {
  readonly role = 'archive'
  private batch: Waiting[] = []
  private timer: NodeJS.Timeout | undefined
  private readonly writing = new Set<Promise<void>>()
  private readonly pruner: NodeJS.Timeout
  /** Totals since start; the `*Ms` ones are time spent per stage (benchmarks, profiling). */
  readonly counters = { events: 0, objects: 0, duplicates: 0, bytes: 0, encodeMs: 0, ledgerMs: 0, uploadMs: 0 }

  constructor(private readonly deps: ArchiveDeps) {
    this.pruner = setInterval(() => void this.prune(), 3_600_000)
    this.pruner.unref()
  }

  handle({ event }: Delivery): Promise<void> {
    let row: ArchiveRow
    try {
      row = toRow(event)
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      this.batch.push({ row, resolve, reject })
      if (this.batch.length >= this.deps.batchSize) this.cut()
      else this.timer ??= setTimeout(() => this.cut(), this.deps.batchAgeMs)
    })
  }

  /** Writes the partial batch now and waits for every write in progress. */
  async flush(): Promise<void> {
    this.cut()
    while (this.writing.size > 0) await Promise.allSettled([...this.writing])
  }

  async close(): Promise<void> {
    clearInterval(this.pruner)
    await this.flush()
  }

  private cut(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const items = this.batch
    this.batch = []
    if (items.length === 0) return
    const write = this.write(items).finally(() => this.writing.delete(write))
    this.writing.add(write)
  }

  private async write(items: Waiting[]): Promise<void> {
    try {
      await this.archive(items.map((i) => i.row))
      for (const i of items) i.resolve()
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, events: items.length }, 'archive batch not written; its events will be retried')
      for (const i of items) i.reject(err)
    }
  }

  /** Archives the rows exactly once by event id; resolves after every object they belong to is uploaded. */
  async archive(rows: ArchiveRow[]): Promise<void> {
    const { ledger, store, codec } = this.deps
    const unique = [...new Map(rows.map((r) => [r.id, r])).values()]
    const c = this.counters
    for (let round = 1; ; round++) {
      let at = performance.now()
      // The first round assumes none of the events was seen before (the common case)
      // and skips the lookup; a conflict on recording says otherwise, and round 2 looks.
      const claims = round === 1 ? new Map<string, Claim>() : await ledger.claims(unique.map((r) => r.id))
      c.ledgerMs += performance.now() - at
      const fresh = unique.filter((r) => !claims.has(r.id))
      const batches = []
      for (const group of groupByHour(fresh)) {
        const key = await this.freeKey(group[0]!)
        const encodeAt = performance.now()
        batches.push({ key, body: codec.encode(group), ids: group.map((r) => r.id) })
        c.encodeMs += performance.now() - encodeAt
      }
      at = performance.now()
      try {
        if (batches.length > 0) await ledger.record(batches)
        c.ledgerMs += performance.now() - at
      } catch (err) {
        // Some events were archived (or claimed by another worker) before: look them up.
        if (err instanceof ClaimConflict && round < 5) continue
        throw err
      }
      const pending = [...new Set([...claims.values()].filter((c) => !c.uploaded).map((c) => c.key))]
      const resumed = await Promise.all(pending.map(async (key) => ({ key, body: await ledger.body(key) })))
      const uploads = [...batches, ...resumed.filter((b): b is { key: string; body: Uint8Array } => b.body !== null)]
      at = performance.now()
      await Promise.all(uploads.map((b) => store.put(b.key, b.body)))
      c.uploadMs += performance.now() - at
      at = performance.now()
      if (uploads.length > 0) await ledger.markUploaded(uploads.map((b) => b.key))
      c.ledgerMs += performance.now() - at
      c.events += fresh.length
      c.duplicates += rows.length - fresh.length
      c.objects += uploads.length
      c.bytes += batches.reduce((sum, b) => sum + b.body.byteLength, 0)
      return
    }
  }

  /**
   * The group's deterministic key, unless an object the ledger no longer remembers
   * (pruned) already holds it: then a numbered sibling, never an overwrite.
   */
  private async freeKey(first: ArchiveRow): Promise<string> {
    for (let n = 1; ; n++) {
      const key = objectKey(first, n === 1 ? '' : `-${n}`)
      if (!(await this.deps.store.exists(key))) return key
    }
  }

  private async prune(): Promise<void> {
    try {
      const n = await this.deps.ledger.prune(new Date(Date.now() - this.deps.retentionMs))
      if (n > 0) this.deps.log.info({ batches: n }, 'archive ledger pruned')
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'archive ledger prune failed')
    }
  }
}
