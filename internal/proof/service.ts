import { randomUUID } from 'node:crypto'
import { actorOf, type Principal } from '../auth/domain.js'
import { notFound, unavailable } from '../platform/errors.js'
import type { Package } from '../package/domain.js'
import { checkAttachable, checkDeclaredSize, mismatch, objectKey, READ_URL_TTL_S, uploadMissing, uploadRefused, UPLOAD_TTL_S, type Proof, type ProofContentType, type ProofKind } from './domain.js'
import type { PackageAccess, PresignedPost, ProofRepository, ProofStore } from './ports.js'

export interface ProofServiceDeps {
  /** Absent when no S3 is configured (embedded mode): every call answers 503. */
  store?: ProofStore
  proofs: ProofRepository
  packages: PackageAccess
  /** PROOF_MAX_BYTES: the largest proof anyone may declare. */
  maxBytes: number
  clock?: () => Date
}

export interface UploadGrant extends PresignedPost {
  uploadId: string
  maxBytes: number
}

/** A proof as clients get it: a short-lived GET URL instead of the key. */
export interface ProofRead {
  id: string
  kind: ProofKind
  contentType: ProofContentType
  sizeBytes: number
  note?: string
  uploadedBy: string | null
  uploadedAt: Date
  url: string
}

/** Proof of delivery: files go from the client straight to the bucket; the gateway presigns, checks and records. */
export class ProofService {
  private readonly now: () => Date

  constructor(private readonly deps: ProofServiceDeps) {
    this.now = deps.clock ?? (() => new Date())
  }

  /** A presigned POST for one file, for the assigned driver or an admin. */
  async requestUpload(principal: Principal, tn: string, input: { contentType: ProofContentType; sizeBytes: number }): Promise<UploadGrant> {
    const store = this.store()
    checkDeclaredSize(input.sizeBytes, this.deps.maxBytes)
    const pkg = await this.writable(principal, tn)
    const id = randomUUID()
    const key = objectKey(pkg.id, id, input.contentType)
    const { url, fields, expiresAt } = await store.presignPost({ key, contentType: input.contentType, maxBytes: input.sizeBytes, expiresInS: UPLOAD_TTL_S })
    await this.deps.proofs.createUpload({ id, packageId: pkg.id, key, contentType: input.contentType, sizeBytes: input.sizeBytes, createdBy: principal.id, expiresAt, used: false })
    return { uploadId: id, url, fields, expiresAt, maxBytes: input.sizeBytes }
  }

  /**
   * Makes the uploaded object a proof once the bucket holds it as presigned.
   * Missing: 409 upload_missing, nothing written. Another type or size: the
   * object is deleted, 400 upload_mismatch.
   */
  async attach(principal: Principal, tn: string, input: { uploadId: string; kind: ProofKind; note?: string }): Promise<ProofRead> {
    const store = this.store()
    const pkg = await this.writable(principal, tn)
    const upload = checkAttachable(await this.deps.proofs.upload(input.uploadId), pkg.id, this.now())
    const stored = await store.head(upload.key)
    if (!stored) throw uploadMissing()
    const wrong = mismatch(upload, stored)
    if (wrong) {
      await store.delete(upload.key)
      throw uploadRefused('upload_mismatch', `${wrong}; it was deleted: ask for a new upload`)
    }
    const now = this.now()
    const proof: Proof = {
      id: randomUUID(),
      packageId: pkg.id,
      uploadId: upload.id,
      kind: input.kind,
      contentType: upload.contentType,
      sizeBytes: stored.sizeBytes,
      key: upload.key,
      ...(input.note?.trim() ? { note: input.note.trim() } : {}),
      uploadedBy: principal.id,
      uploadedAt: now,
    }
    const event = await this.deps.proofs.attach(proof, pkg.trackingNumber, now, actorOf(principal))
    this.deps.packages.committed(pkg.trackingNumber, [event])
    return this.read(store, proof)
  }

  /** The package's proofs with GET URLs, for who sees the package in full; anyone else gets 404. */
  async list(principal: Principal | undefined, tn: string): Promise<ProofRead[]> {
    if (!principal) throw notFound('package')
    const store = this.store()
    const pkg = await this.deps.packages.readable(principal, tn)
    const proofs = await this.deps.proofs.list(pkg.id)
    return Promise.all(proofs.map((p) => this.read(store, p)))
  }

  /** Admins, and the driver the package is assigned to (to anyone else it does not exist). */
  private async writable(principal: Principal, tn: string): Promise<Package> {
    const pkg = await this.deps.packages.readable(principal, tn)
    if (principal.role === 'admin' || (principal.role === 'driver' && pkg.driverId === principal.id)) return pkg
    throw notFound('package')
  }

  private async read(store: ProofStore, p: Proof): Promise<ProofRead> {
    const { id, kind, contentType, sizeBytes, note, uploadedBy, uploadedAt } = p
    return { id, kind, contentType, sizeBytes, ...(note ? { note } : {}), uploadedBy, uploadedAt, url: await store.presignGet(p.key, READ_URL_TTL_S) }
  }

  private store(): ProofStore {
    if (!this.deps.store) throw unavailable('proofs of delivery need object storage: S3 is not configured (set S3_ENDPOINT, or run with the services)')
    return this.deps.store
  }
}
