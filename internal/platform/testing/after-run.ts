// tap `after` (.taprc): the run's RabbitMQ vhost goes, with every message the tests left in it.
import { rabbitmqctl, TEST_VHOST } from './broker-vhost.js'

if (!process.env.AMQP_URL) rabbitmqctl(['delete_vhost', TEST_VHOST])
