import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3'
import { createPresignedPost } from '@aws-sdk/s3-presigned-post'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import type { Config } from '../config/config.js'
import { awsClientConfig, ensureBucket, isAwsOutage, isS3NotFound } from '../platform/aws.js'
import type { Breakers, EdgePolicy } from '../platform/resilience.js'
import type { ProofContentType, StoredObject } from './domain.js'
import type { PresignedPost, ProofStore } from './ports.js'

/**
 * The proofs bucket through the AWS SDK: AWS S3 or anything that speaks its API
 * (MinIO, s3rver). The calls that reach S3 (HEAD, DELETE) go through the bucket's
 * breaker (`s3:<bucket>`): while it is open they fail at once (503); presigning is local.
 */
export class S3ProofStore implements ProofStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly policy: EdgePolicy,
  ) {}

  static fromConfig(config: Config, breakers: Breakers): S3ProofStore {
    const s3 = new S3Client({ ...awsClientConfig(config, config.S3_ENDPOINT), forcePathStyle: config.S3_FORCE_PATH_STYLE })
    return new S3ProofStore(s3, config.PROOF_BUCKET, breakers.edge(`s3:${config.PROOF_BUCKET}`, { concurrency: 64, queue: 256, isOutage: isAwsOutage }))
  }

  async presignPost(input: { key: string; contentType: ProofContentType; maxBytes: number; expiresInS: number }): Promise<PresignedPost> {
    // Fields become exact-match conditions too: the key and Content-Type cannot be changed by the client.
    const post = await createPresignedPost(this.s3, {
      Bucket: this.bucket,
      Key: input.key,
      Fields: { 'Content-Type': input.contentType },
      Conditions: [['content-length-range', 1, input.maxBytes]],
      Expires: input.expiresInS,
    })
    // The SDK dates the policy by its own clock: the expiry clients are told is the one it signed.
    const policy = JSON.parse(Buffer.from(post.fields.Policy ?? '', 'base64').toString('utf8')) as { expiration: string }
    return { ...post, expiresAt: new Date(policy.expiration) }
  }

  async head(key: string): Promise<StoredObject | null> {
    try {
      const out = await this.policy.run((abortSignal) => this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal }))
      return { contentType: out.ContentType, sizeBytes: out.ContentLength ?? 0 }
    } catch (err) {
      if (isS3NotFound(err)) return null
      throw err
    }
  }

  async delete(key: string): Promise<void> {
    await this.policy.run((abortSignal) => this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal }))
  }

  presignGet(key: string, expiresInS: number): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInS })
  }

  /** Creates the bucket when it does not exist (platform/aws.ts). */
  ensureBucket(): Promise<'exists' | 'created' | 'unknown'> {
    return ensureBucket(this.s3, this.bucket)
  }

  /**
   * Lets browser pages POST uploads and read the answers (CORS). Any origin: a
   * plain HTML form may POST across origins anyway, and the presigned policy, not
   * the origin, is what authorises an upload.
   */
  async allowBrowserUploads(): Promise<void> {
    await this.s3.send(
      new PutBucketCorsCommand({
        Bucket: this.bucket,
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['POST', 'GET', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3000 }] },
      }),
    )
  }

  close(): void {
    this.s3.destroy()
  }
}
