import { PublishCommand, SNSClient, type MessageAttributeValue } from '@aws-sdk/client-sns'
import type { Config } from '../config/config.js'
import type { EventEnvelope } from '../events/envelope.js'
import { awsClientConfig } from '../platform/aws.js'
import type { Notifier } from './ports.js'

const attr = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value })

/**
 * Publishes the event envelope to an SNS topic with message attributes
 * `type`, `status` and `trackingNumber` (for subscription filter policies). On a
 * FIFO topic the package is the message group and the event id deduplicates.
 */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  static fromConfig(config: Config): SnsNotifier | undefined {
    if (!config.SNS_TOPIC_ARN) return undefined
    return new SnsNotifier(new SNSClient(awsClientConfig(config, config.SNS_ENDPOINT)), config.SNS_TOPIC_ARN)
  }

  async publish(event: EventEnvelope): Promise<void> {
    const status = typeof event.data.status === 'string' ? event.data.status : ''
    const fifo = this.topicArn.endsWith('.fifo')
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Message: JSON.stringify(event),
        MessageAttributes: { type: attr(event.type), ...(status ? { status: attr(status) } : {}), trackingNumber: attr(event.trackingNumber) },
        ...(fifo ? { MessageGroupId: event.trackingNumber, MessageDeduplicationId: event.id } : {}),
      }),
    )
  }

  close(): void {
    this.sns.destroy()
  }
}
