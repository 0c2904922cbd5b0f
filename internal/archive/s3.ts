import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import type { Config } from '../config/config.js'
import { awsClientConfig, ensureBucket, isAwsOutage, isS3NotFound } from '../platform/aws.js'
import { Breakers, breakerSettingsOf, type EdgePolicy } from '../platform/resilience.js'
import { PARQUET_CONTENT_TYPE } from './parquet.js'
import { checkObjectKey, ObjectNotFound, type ManagedObjectStore } from './ports.js'

/**
 * The archive bucket through the AWS SDK: AWS S3 or anything that speaks its API
 * (MinIO, s3rver). Every call goes through the bucket's breaker (`s3:<bucket>`):
 * while it is open calls reject at once with EdgeUnavailable.
 */
export class S3ObjectStore implements ManagedObjectStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly policy: EdgePolicy,
  ) {}

  /** `breakers`: the process's (its /metrics); a tool without metrics gets its own. */
  static fromConfig(config: Config, breakers = new Breakers(breakerSettingsOf(config))): S3ObjectStore {
    const s3 = new S3Client({ ...awsClientConfig(config, config.S3_ENDPOINT), forcePathStyle: config.S3_FORCE_PATH_STYLE })
    // A batch uploads one object per hour it spans, all at once: a few in flight, the rest wait.
    const policy = breakers.edge(`s3:${config.ARCHIVE_BUCKET}`, { concurrency: 8, queue: 1_000, isOutage: isAwsOutage })
    return new S3ObjectStore(s3, config.ARCHIVE_BUCKET, policy)
  }

  get location(): string {
    return `s3://${this.bucket}`
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    checkObjectKey(key)
    await this.policy.run((abortSignal) => this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: PARQUET_CONTENT_TYPE }), { abortSignal }))
  }

  async exists(key: string): Promise<boolean> {
    checkObjectKey(key)
    try {
      await this.policy.run((abortSignal) => this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal }))
      return true
    } catch (err) {
      if (isS3NotFound(err)) return false
      throw err
    }
  }

  async get(key: string): Promise<Uint8Array> {
    checkObjectKey(key)
    const out = await this.policy.run((abortSignal) => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal })).catch((err: unknown) => {
      throw (err as { name?: string }).name === 'NoSuchKey' ? new ObjectNotFound(key) : err
    })
    if (!out.Body) throw new Error(`object ${key} has no body`)
    return out.Body.transformToByteArray()
  }

  async list(prefix: string): Promise<string[]> {
    checkObjectKey(prefix, { prefix: true })
    const keys: string[] = []
    let token: string | undefined
    do {
      const page = await this.policy.run((abortSignal) => this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal }))
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return keys.sort()
  }

  /** Creates the bucket when it does not exist (platform/aws.ts). */
  ensureBucket(): Promise<'exists' | 'created' | 'unknown'> {
    return ensureBucket(this.s3, this.bucket)
  }

  close(): void {
    this.s3.destroy()
  }
}
