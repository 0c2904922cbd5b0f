// tap `before` (.taprc): a fresh RabbitMQ vhost for this run (broker-vhost.ts).
import { rabbitmqctl, TEST_VHOST } from './broker-vhost.js'

if (!process.env.AMQP_URL) {
  // Whatever an interrupted run left behind goes with the old vhost (usually there is none).
  rabbitmqctl(['delete_vhost', TEST_VHOST], true)
  if (!rabbitmqctl(['add_vhost', TEST_VHOST]) || !rabbitmqctl(['set_permissions', '-p', TEST_VHOST, 'guest', '.*', '.*', '.*'])) {
    process.stderr.write(`the tests need the RabbitMQ vhost "${TEST_VHOST}" (or AMQP_URL pointing at a broker of their own)\n`)
  }
}
