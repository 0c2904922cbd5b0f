import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/config.js'
import { withTimeout } from '../platform/deadline.js'
import type { Breakers } from '../platform/resilience.js'
import { S3ProofStore } from '../proof/s3.js'

/**
 * The proofs bucket the gateway presigns for: the services' S3 (AWS unless
 * S3_ENDPOINT), or whatever S3_ENDPOINT names. The embedded mode without it (and
 * a gateway built without a mode, as tests build them) has none: proofs answer 503.
 * Created at start when missing; the client is closed with the app.
 */
export function proofStoreOf(app: FastifyInstance, config: Config, mode: 'services' | 'embedded' | undefined, breakers: Breakers): S3ProofStore | undefined {
  if (mode !== 'services' && !config.S3_ENDPOINT) {
    if (config.PROOF_REQUIRED_FOR_DELIVERED) app.log.warn('PROOF_REQUIRED_FOR_DELIVERED is set but S3 is not: drivers cannot attach proofs, so they cannot deliver')
    return undefined
  }
  const store = S3ProofStore.fromConfig(config, breakers)
  app.addHook('onReady', async () => {
    // Bounded: an unreachable S3 must not hold the start; the first upload will tell.
    const state = await withTimeout(store.ensureBucket(), 5_000, 'S3 (proof bucket)').catch((err: unknown) => {
      app.log.warn({ err, bucket: store.bucket }, 'proof bucket not reachable at start')
      return 'unknown'
    })
    // A bucket we made gets the CORS rule browsers need to upload; an existing one is the operator's (docs/security.md).
    if (state === 'created') await store.allowBrowserUploads().catch((err: unknown) => app.log.warn({ err, bucket: store.bucket }, 'could not set the proof bucket\'s CORS rule'))
    app.log.info({ bucket: store.bucket, state }, 'proof bucket')
  })
  app.addHook('onClose', async () => store.close())
  return store
}

/**
 * The origins a browser reaches the proofs bucket at (presigned GETs and POSTs),
 * for the console's Content-Security-Policy: S3_ENDPOINT's origin (the bucket as a
 * subdomain unless path style), else AWS S3's in AWS_REGION. None without S3.
 */
export function proofStorageOrigins(config: Config, mode: 'services' | 'embedded' | undefined): string[] {
  if (mode !== 'services' && !config.S3_ENDPOINT) return []
  const bucket = config.PROOF_BUCKET
  if (config.S3_ENDPOINT) {
    const url = new URL(config.S3_ENDPOINT)
    return [config.S3_FORCE_PATH_STYLE ? url.origin : `${url.protocol}//${bucket}.${url.host}`]
  }
  const host = `s3.${config.AWS_REGION}.amazonaws.com`
  return config.S3_FORCE_PATH_STYLE ? [`https://${host}`] : [`https://${bucket}.${host}`, `https://${bucket}.s3.amazonaws.com`]
}
