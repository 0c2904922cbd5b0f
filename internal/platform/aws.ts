import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3'
import type { Config } from '../config/config.js'

/**
 * Settings shared by the workers' AWS clients: region, explicit keys when the
 * configuration has them (else the SDK's own chain: env, profile, instance role),
 * bounded timeouts, and no SDK retries: each call goes through a breaker
 * (platform/resilience.ts) and whoever called retries durably (the queue's delays, the client).
 */
export function awsClientConfig(config: Config, endpoint: string | undefined) {
  return {
    region: config.AWS_REGION,
    ...(endpoint ? { endpoint } : {}),
    ...(config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY } }
      : {}),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  }
}

/** An S3 answer meaning "no such object or bucket" (AWS, MinIO and s3rver word it differently). */
export function isS3NotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.$metadata?.httpStatusCode === 404
}

/**
 * Whether an AWS SDK error says the service is down or overloaded (no answer, 5xx,
 * throttling) rather than refusing this request (4xx): only those trip a breaker.
 */
export function isAwsOutage(err: unknown): boolean {
  const e = err as { $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } }
  const status = e.$metadata?.httpStatusCode
  return status === undefined || status >= 500 || status === 429 || e.$retryable?.throttling === true
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
