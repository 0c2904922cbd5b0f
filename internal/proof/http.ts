import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { principalOf } from '../auth/authenticate.js'
import { responses } from '../platform/http/schemas.js'
import type { ProofService } from './service.js'
import { AttachBody, ProofList, ProofSchema, TnParams, UploadBody, UploadGrantSchema } from './schemas.js'

export interface ProofRoutesOptions {
  proofs: ProofService
}

const bearer = [{ bearer: [] }]
const tags = ['proofs']

/** /packages/:tn/proofs: presigned uploads, attaching them, reading them back. */
export const proofRoutes: FastifyPluginAsync<ProofRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const svc = opts.proofs
  app.addSchema(ProofSchema)

  app.post('/packages/:trackingNumber/proofs/uploads', {
    config: { roles: ['admin', 'driver'] },
    schema: {
      tags,
      summary: 'A presigned POST for one proof file (assigned driver, admin)',
      description: 'The policy pins the object key, the Content-Type and 1..sizeBytes bytes, and expires in 10 minutes. A size over PROOF_MAX_BYTES is 400 naming /sizeBytes. Without S3 configured: 503 unavailable.',
      security: bearer,
      params: TnParams,
      body: UploadBody,
      response: responses({ 201: UploadGrantSchema }),
    },
  }, async (request, reply) => reply.code(201).send(await svc.requestUpload(principalOf(request), request.params.trackingNumber, request.body)))

  app.post('/packages/:trackingNumber/proofs', {
    config: { roles: ['admin', 'driver'] },
    schema: {
      tags,
      summary: 'Attach an uploaded file as a proof (assigned driver, admin)',
      description: 'Nothing uploaded yet: 409 upload_missing. Another type or size than presigned: 400 upload_mismatch and the object is deleted. Unknown upload: 404 upload_not_found; attached before: 400 upload_used; expired: 400 upload_expired. S3 unreachable, or its circuit breaker open after repeated failures: 503 unavailable with retry-after. Writes package.proof_added.',
      security: bearer,
      params: TnParams,
      body: AttachBody,
      response: responses({ 201: Type.Ref('Proof') }),
    },
  }, async (request, reply) => reply.code(201).send(await svc.attach(principalOf(request), request.params.trackingNumber, request.body)))

  app.get('/packages/:trackingNumber/proofs', {
    // Guests get the same 404 as trackers: a proof's existence is not public.
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'The package\'s proofs (staff, the owner, the assigned driver)',
      description: 'Each `url` is a presigned GET valid 15 minutes. Trackers and guests get 404.',
      security: bearer,
      params: TnParams,
      response: responses({ 200: ProofList }),
    },
  }, async (request) => ({ items: await svc.list(request.principal, request.params.trackingNumber) }))
}
