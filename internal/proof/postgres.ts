import type pg from 'pg'
import type { Actor, PackageEvent } from '../events/envelope.js'
import { eventValues, insertEvents, stampEvents } from '../events/log-postgres.js'
import { withTx } from '../platform/db/postgres.js'
import { notFound } from '../platform/errors.js'
import { uploadRefused, type Proof, type ProofContentType, type ProofKind, type ProofUpload } from './domain.js'
import type { ProofRepository } from './ports.js'

interface UploadRow {
  id: string
  package_id: string
  object_key: string
  content_type: ProofContentType
  size_bytes: string
  created_by: string
  expires_at: Date
  used: boolean
}

interface ProofRow {
  id: string
  package_id: string
  upload_id: string
  kind: ProofKind
  content_type: ProofContentType
  size_bytes: string
  object_key: string
  note: string | null
  uploaded_by: string | null
  uploaded_at: Date
}

// The proof event goes into the package's log like every package change: the next
// seq, and version + 1 with it, since the package repository's optimistic writes
// take their seqs from the version they read.
const BUMP_AND_LOG = `WITH u AS (
    UPDATE packages SET version = version + 1, last_seq = last_seq + 1, updated_at = $1 WHERE id = $2 RETURNING id, tracking_number
  ), e AS (${insertEvents('u', 3)})
  SELECT id FROM u`

export class PostgresProofRepository implements ProofRepository {
  /** `origin`: this process's instance id, recorded with the events it writes (see events/path.ts). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: { origin?: string } = {},
  ) {}

  async createUpload(u: ProofUpload): Promise<void> {
    await this.pool.query(
      `INSERT INTO proof_uploads (id, package_id, object_key, content_type, size_bytes, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [u.id, u.packageId, u.key, u.contentType, u.sizeBytes, u.createdBy, u.expiresAt],
    )
  }

  async upload(id: string): Promise<ProofUpload | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null
    const { rows } = await this.pool.query<UploadRow>('SELECT * FROM proof_uploads WHERE id = $1', [id])
    const r = rows[0]
    if (!r) return null
    return { id: r.id, packageId: r.package_id, key: r.object_key, contentType: r.content_type, sizeBytes: Number(r.size_bytes), createdBy: r.created_by, expiresAt: r.expires_at, used: r.used }
  }

  async attach(proof: Proof, trackingNumber: string, now: Date, actor: Actor): Promise<PackageEvent> {
    return withTx(this.pool, async (tx) => {
      // Locked first, so the seq read here is still the next one when the event is written.
      const pkg = await tx.query<{ last_seq: string }>('SELECT last_seq FROM packages WHERE id = $1 AND deleted_at IS NULL FOR UPDATE', [proof.packageId])
      if (!pkg.rows[0]) throw notFound('package')
      const claimed = await tx.query('UPDATE proof_uploads SET used = true WHERE id = $1 AND NOT used', [proof.uploadId])
      if (claimed.rowCount !== 1) throw uploadRefused('upload_used', 'this upload is already attached to a proof')
      await tx.query(
        `INSERT INTO proofs (id, package_id, upload_id, kind, content_type, size_bytes, object_key, note, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [proof.id, proof.packageId, proof.uploadId, proof.kind, proof.contentType, proof.sizeBytes, proof.key, proof.note ?? null, proof.uploadedBy, proof.uploadedAt],
      )
      const data: Record<string, unknown> = { proofId: proof.id, kind: proof.kind, contentType: proof.contentType, sizeBytes: proof.sizeBytes, uploadedBy: proof.uploadedBy }
      const [event] = stampEvents({ trackingNumber, seq: Number(pkg.rows[0].last_seq) }, [{ type: 'package.proof_added', occurredAt: now, data, actor }], now)
      await tx.query(BUMP_AND_LOG, [now, proof.packageId, ...eventValues([{ packageId: proof.packageId, events: [event!] }], this.opts.origin ?? null)])
      return event!
    })
  }

  async list(packageId: string): Promise<Proof[]> {
    const { rows } = await this.pool.query<ProofRow>('SELECT * FROM proofs WHERE package_id = $1 ORDER BY uploaded_at, id', [packageId])
    return rows.map((r) => ({
      id: r.id,
      packageId: r.package_id,
      uploadId: r.upload_id,
      kind: r.kind,
      contentType: r.content_type,
      sizeBytes: Number(r.size_bytes),
      key: r.object_key,
      ...(r.note ? { note: r.note } : {}),
      uploadedBy: r.uploaded_by,
      uploadedAt: r.uploaded_at,
    }))
  }

  /** Whether the package has at least one proof (PROOF_REQUIRED_FOR_DELIVERED). */
  async hasProof(packageId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM proofs WHERE package_id = $1 LIMIT 1', [packageId])
    return rowCount === 1
  }
}
