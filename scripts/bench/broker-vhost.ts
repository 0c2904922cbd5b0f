/**
 * A RabbitMQ vhost of a benchmark run's own, re-created with rabbitmqctl and deleted
 * afterwards. The gateway declares the workers' durable queues; in the shared vhost
 * every benchmarked event would stay in them (nothing consumes them during a run).
 */
import { spawnSync } from 'node:child_process'

export function rabbitmqctl(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('rabbitmqctl', ['-q', ...args], { encoding: 'utf8', timeout: 120_000 })
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim() }
}

/** Re-creates the vhost; without rabbitmqctl (or its rights) falls back to "/" and says so. */
export function freshVhost(vhost: string, log: (line: string) => void): { url: string; created: boolean } {
  if (!/^[A-Za-z0-9_.-]+$/.test(vhost)) throw new Error(`vhost must be a plain name (got "${vhost}")`)
  rabbitmqctl(['delete_vhost', vhost])
  const add = rabbitmqctl(['add_vhost', vhost])
  const perm = add.ok ? rabbitmqctl(['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*']) : add
  if (!perm.ok) {
    log(`WARNING: could not create the RabbitMQ vhost ${vhost} (${perm.out.split('\n').slice(-1)[0] || 'rabbitmqctl failed'}); ` +
      'using the default vhost "/", whose worker queues will keep this run\'s events')
    return { url: 'amqp://guest:guest@127.0.0.1:5672', created: false }
  }
  log(`RabbitMQ vhost ${vhost} re-created for the run`)
  return { url: `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`, created: true }
}

export function deleteVhost(vhost: string, log: (line: string) => void): void {
  const del = rabbitmqctl(['delete_vhost', vhost])
  log(del.ok ? `RabbitMQ vhost ${vhost} deleted` : `could not delete the RabbitMQ vhost ${vhost}: ${del.out}`)
}
