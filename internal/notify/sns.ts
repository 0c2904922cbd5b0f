import { PublishCommand, SNSClient, type MessageAttributeValue } from '@aws-sdk/client-sns'
import type { Config } from '../config/config.js'
import type { EventEnvelope } from '../events/envelope.js'
import { awsClientConfig, isAwsOutage } from '../platform/aws.js'
import type { Breakers, EdgePolicy } from '../platform/resilience.js'
import type { Notifier } from './ports.js'

const attr = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value })

/**
 * Publishes the event envelope to an SNS topic with message attributes
 * `type`, `status` and `trackingNumber` (for subscription filter policies). On a
 * FIFO topic the package is the message group and the event id deduplicates.
 * Every call goes through the `sns` breaker: while it is open, publish rejects at
 * once with EdgeUnavailable and the queue retries the event later.
 */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
    private readonly policy: EdgePolicy,
  ) {}

  /** `concurrency`: publishes in flight at once (the role's prefetch); as many more may wait. */
  static fromConfig(config: Config, breakers: Breakers, concurrency: number): SnsNotifier | undefined {
    if (!config.SNS_TOPIC_ARN) return undefined
    const policy = breakers.edge('sns', { concurrency, queue: concurrency, isOutage: isAwsOutage })
    return new SnsNotifier(new SNSClient(awsClientConfig(config, config.SNS_ENDPOINT)), config.SNS_TOPIC_ARN, policy)
  }

  async publish(event: EventEnvelope): Promise<void> {
    const status = typeof event.data.status === 'string' ? event.data.status : ''
    const fifo = this.topicArn.endsWith('.fifo')
    const command = new PublishCommand({
      TopicArn: this.topicArn,
      Message: JSON.stringify(event),
      MessageAttributes: { type: attr(event.type), ...(status ? { status: attr(status) } : {}), trackingNumber: attr(event.trackingNumber) },
      ...(fifo ? { MessageGroupId: event.trackingNumber, MessageDeduplicationId: event.id } : {}),
    })
    await this.policy.run((abortSignal) => this.sns.send(command, { abortSignal }))
  }

  close(): void {
    this.sns.destroy()
  }
}
