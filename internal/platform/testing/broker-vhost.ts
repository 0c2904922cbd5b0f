import { execFileSync } from 'node:child_process'

/**
 * The RabbitMQ vhost the test suite uses when AMQP_URL is not set: the local
 * broker's `/` is where `make run` keeps its queues, and test events must not
 * land in a developer's worker queues. tap creates it before a run if it is
 * missing (`before` in .taprc).
 */
export const TEST_VHOST = 'delivertrack_test'

/** Runs rabbitmqctl; false (with the reason on stderr unless `quiet`) where it cannot (no local broker, not permitted). */
export function rabbitmqctl(args: string[], quiet = false): boolean {
  try {
    execFileSync('rabbitmqctl', ['-q', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    return true
  } catch (err) {
    const reason = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message
    if (!quiet) process.stderr.write(`rabbitmqctl ${args.join(' ')}: ${reason}\n`)
    return false
  }
}
