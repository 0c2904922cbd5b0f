import { Type } from 'typebox'
import { DateTimeOut } from '../platform/http/schemas.js'
import { PROOF_CONTENT_TYPES, PROOF_KINDS } from './domain.js'

export const TnParams = Type.Object({ trackingNumber: Type.String({ minLength: 1, maxLength: 64 }) })

const ContentType = Type.Union(PROOF_CONTENT_TYPES.map((c) => Type.Literal(c)), { description: 'The file\'s type; the upload must send exactly this Content-Type.' })
const Kind = Type.Union(PROOF_KINDS.map((k) => Type.Literal(k)))

export const UploadBody = Type.Object(
  {
    contentType: ContentType,
    sizeBytes: Type.Integer({ minimum: 1, description: 'The file\'s size in bytes; the policy accepts 1 up to this many (at most PROOF_MAX_BYTES, 10 MiB by default).' }),
  },
  { additionalProperties: false },
)

export const UploadGrantSchema = Type.Object({
  uploadId: Type.String({ format: 'uuid', description: 'Attach it with POST /packages/:tn/proofs once the upload succeeded.' }),
  url: Type.String({ description: 'POST a multipart form here: every field of `fields`, then the file as `file` (last).' }),
  fields: Type.Record(Type.String(), Type.String()),
  expiresAt: DateTimeOut,
  maxBytes: Type.Integer(),
})

export const AttachBody = Type.Object(
  {
    uploadId: Type.String({ minLength: 1, maxLength: 64 }),
    kind: Kind,
    note: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
)

export const ProofSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    kind: Kind,
    contentType: ContentType,
    sizeBytes: Type.Integer(),
    note: Type.Optional(Type.String()),
    uploadedBy: Type.Union([Type.String(), Type.Null()], { description: 'The user who attached it; null once that account is deleted.' }),
    uploadedAt: DateTimeOut,
    url: Type.String({ description: 'A presigned GET of the file, valid 15 minutes.' }),
  },
  { $id: 'Proof' },
)

export const ProofList = Type.Object({ items: Type.Array(Type.Unsafe<object>(Type.Ref('Proof'))) })
