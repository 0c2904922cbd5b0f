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
