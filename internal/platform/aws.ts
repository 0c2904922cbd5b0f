import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3'
import type { Config } from '../config/config.js'

/**
 * Settings shared by the workers' AWS clients: region, explicit keys when the
 * configuration has them (else the SDK's own chain: env, profile, instance role),
 * bounded timeouts, and fewer SDK retries (the queue's delayed retries take over).
 */
export function awsClientConfig(config: Config, endpoint: string | undefined) {
  return {
    region: config.AWS_REGION,
    ...(endpoint ? { endpoint } : {}),
    ...(config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY } }
      : {}),
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  }
}

/** An S3 answer meaning "no such object or bucket" (AWS, MinIO and s3rver word it differently). */
export function isS3NotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.$metadata?.httpStatusCode === 404
}

/**
 * Creates the bucket when it does not exist (development: MinIO, s3rver); any other
 * answer is left to the first real request, which reports it properly.
 */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<'exists' | 'created' | 'unknown'> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }))
    return 'exists'
  } catch (err) {
    if (!isS3NotFound(err)) return 'unknown'
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    return 'created'
  }
}
