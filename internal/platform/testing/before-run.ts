// tap `before` (.taprc): the suite's RabbitMQ vhost exists before any test file runs
// (broker-vhost.ts). It is kept between runs: deleting it would pull the broker out
// from under another run in progress (say, a single file run beside `make test`).
import { rabbitmqctl, TEST_VHOST } from './broker-vhost.js'

if (!process.env.AMQP_URL) {
  // add_vhost fails when the vhost exists already, which is fine; the permissions say whether it is usable.
  rabbitmqctl(['add_vhost', TEST_VHOST], true)
  if (!rabbitmqctl(['set_permissions', '-p', TEST_VHOST, 'guest', '.*', '.*', '.*'])) {
    process.stderr.write(`the tests need the RabbitMQ vhost "${TEST_VHOST}" (or AMQP_URL pointing at a broker of their own)\n`)
  }
}
