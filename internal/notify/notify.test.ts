import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { Principal } from '../auth/domain.js'
import type { TestLike } from '../platform/testing/harness.js'
import { eventually, publishRaw, testVhost } from '../platform/testing/broker.js'
import { eventLog } from '../app/testing/events.js'
import { startReceiver, type Received } from '../platform/testing/receiver.js'
import { startWorker, workerGateway } from '../app/testing/worker.js'

// There is no SNS server here: this is a local HTTP endpoint that speaks the SNS
// Publish API as the AWS SDK uses it (AWS query protocol: a form-encoded POST with
// Action=Publish, answered with the XML PublishResponse), and the test checks what
// the SDK sent to it.
const amqpUrl = await testVhost(t)
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:delivertrack-status'
const admin: Principal = { id: randomUUID(), role: 'admin', kind: 'user' }

async function fakeSns(t: TestLike, status: (n: number) => number = () => 200) {
  return startReceiver(t, (_req, n) => status(n), (_req, code) =>
    code === 200
      ? `<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`
      : `<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Receiver</Type><Code>InternalError</Code><Message>try again</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  )
}

/** The Publish call's parameters, with message attributes as a name -> value map. */
function publishOf(req: Received) {
  const form = new URLSearchParams(req.body)
  const attributes: Record<string, { type: string | null; value: string | null }> = {}
  for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
    attributes[form.get(`MessageAttributes.entry.${i}.Name`)!] = {
      type: form.get(`MessageAttributes.entry.${i}.Value.DataType`),
      value: form.get(`MessageAttributes.entry.${i}.Value.StringValue`),
    }
  }
  return { action: form.get('Action'), topicArn: form.get('TopicArn'), message: JSON.parse(form.get('Message') ?? 'null') as unknown, attributes }
}

const snsEnv = (endpoint: string) => ({ SNS_TOPIC_ARN: TOPIC, SNS_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret-key' })

t.test('each status change is published to the SNS topic once, with the envelope and attributes', async (t) => {
  const sns = await fakeSns(t)
  const env = snsEnv(sns.url)
  const gw = await workerGateway(t, amqpUrl, env)
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['notify'], env })
  const pkg = await gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: 'Ann' } })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'in_transit', location: { lat: 52.5, lng: 13.4 } })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'out_for_delivery' })
  await eventually(() => sns.requests.length === 2, 'two Publish calls')
  const changes = (await eventLog(gw)).filter((e) => e.type === 'package.status_changed')

  for (const [i, req] of sns.requests.entries()) {
    t.match(req.headers['content-type'], /application\/x-www-form-urlencoded/)
    t.match(req.headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/sns\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/, 'SigV4 signed')
    const p = publishOf(req)
    const e = changes[i]!
    t.equal(p.action, 'Publish')
    t.equal(p.topicArn, TOPIC)
    t.same(p.message, { id: e.id, type: e.type, trackingNumber: pkg.trackingNumber, seq: e.seq, occurredAt: e.occurred_at.toISOString(), recordedAt: e.recorded_at.toISOString(), data: e.data, actor: e.actor }, 'the message is the event envelope, with who caused it (an operator\'s integration)')
    t.same(p.attributes, {
      type: { type: 'String', value: 'package.status_changed' },
      status: { type: 'String', value: e.data.status },
      trackingNumber: { type: 'String', value: pkg.trackingNumber },
    })
  }

  // The relay may publish an event twice (at-least-once); the customer hears of it once.
  const first = changes[0]!
  await publishRaw(amqpUrl, 'package.status_changed', { id: first.id, type: first.type, trackingNumber: first.tracking_number, seq: first.seq, occurredAt: first.occurred_at, recordedAt: first.recorded_at, data: first.data })
  await eventually(() => w.worker.notify!.counters.duplicates === 1, 'the repeat to be recognised')
  t.equal(sns.requests.length, 2, 'not published again')
})

t.test('SNS failing: retried with a delay until it accepts', async (t) => {
  const sns = await fakeSns(t, (n) => (n <= 2 ? 500 : 200))
  const env = snsEnv(sns.url)
  const gw = await workerGateway(t, amqpUrl, env)
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['notify'], env })
  const pkg = await gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: 'Ann' } })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'cancelled' })
  await eventually(() => w.worker.notify!.counters.sent === 1, 'the notification sent')
  t.equal(w.worker.consumers[0]!.counters.retried, 2, 'the queue retried the event after each failure (the SDK does not retry)')
  t.equal(sns.requests.length, 3)
  t.equal(publishOf(sns.requests[2]!).attributes.status?.value, 'cancelled')
})

t.test('without SNS_TOPIC_ARN notifications are off: events are drained, nothing is sent', async (t) => {
  const sns = await fakeSns(t)
  const gw = await workerGateway(t, amqpUrl)
  const w = await startWorker(t, { iso: gw, amqpUrl, roles: ['notify'], env: { SNS_ENDPOINT: sns.url } })
  const pkg = await gw.packages.create({ sender: { name: 'Shop' }, recipient: { name: 'Ann' } })
  await gw.packages.changeStatus(admin, pkg.trackingNumber, { status: 'in_transit' })
  await eventually(() => w.worker.consumers[0]!.counters.acked === 1, 'the event drained')
  t.equal(w.worker.notify!.counters.skipped, 1)
  t.equal(sns.requests.length, 0)
})
