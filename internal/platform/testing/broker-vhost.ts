import { execFileSync } from 'node:child_process'
import amqplib from 'amqplib'

/**
 * The RabbitMQ vhost the test suite uses when AMQP_URL is not set: the local
 * broker's `/` is where `make run` keeps its queues, and test events must not
 * land in a developer's worker queues. It is made (with rabbitmqctl) the first
 * time a test file finds it missing, and kept: deleting it would pull the broker
 * out from under another run in progress.
 */
export const TEST_VHOST = 'delivertrack_test'

/** Makes sure the vhost of `url` exists; throws with what to do when it cannot be made. */
export async function ensureTestVhost(url: string): Promise<void> {
  if (await opens(url)) return
  // Two test files may get here at once: add_vhost then fails for one of them, which is fine.
  rabbitmqctl(['add_vhost', TEST_VHOST])
  rabbitmqctl(['set_permissions', '-p', TEST_VHOST, decodeURIComponent(new URL(url).username || 'guest'), '.*', '.*', '.*'])
  if (!(await opens(url))) {
    throw new Error(`the tests need the RabbitMQ vhost "${TEST_VHOST}" and could not create it with rabbitmqctl: run \`rabbitmqctl add_vhost ${TEST_VHOST}\` and \`rabbitmqctl set_permissions -p ${TEST_VHOST} guest '.*' '.*' '.*'\` as root, or set AMQP_URL`)
  }
}

async function opens(url: string): Promise<boolean> {
  try {
    const connection = await amqplib.connect(url)
    await connection.close()
    return true
  } catch {
    return false
  }
}

function rabbitmqctl(args: string[]): void {
  try {
    execFileSync('rabbitmqctl', ['-q', ...args], { stdio: 'ignore' })
  } catch {
    // reported by the check that follows
  }
}
