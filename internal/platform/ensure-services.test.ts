import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { projectRoot } from './paths.js'

// What `make services` tells someone whose machine lacks PostgreSQL, Redis or RabbitMQ.
// Every case names a missing service through the script's test variables, which make it
// stop before installing or starting anything, so the real services are left alone.

const script = join(projectRoot(), 'scripts', 'ensure-services.sh')

function ensureServices(missing: string, system: string) {
  const run = spawnSync('bash', [script], {
    env: { ...process.env, ENSURE_SERVICES_ASSUME_MISSING: missing, ENSURE_SERVICES_ASSUME_SYSTEM: system },
    encoding: 'utf8',
  })
  return { status: run.status, out: run.stdout + run.stderr }
}

t.test('on Debian without root it prints the apt-get command for what is missing', async (t) => {
  const all = ensureServices('postgresql redis rabbitmq', 'debian')
  t.equal(all.status, 1, 'fails, so make test stops')
  t.match(all.out, /not installed: PostgreSQL, Redis, RabbitMQ/)
  t.match(all.out, /^Install with: {2}sudo apt-get install -y postgresql postgresql-contrib redis-server rabbitmq-server$/m)
  t.match(all.out, /make run needs none of them/, 'points to the embedded mode')
  t.notMatch(all.out, /are up/)

  const one = ensureServices('redis', 'debian')
  t.equal(one.status, 1)
  t.match(one.out, /^Install with: {2}sudo apt-get install -y redis-server$/m, 'only the missing package')
})

t.test('with Homebrew it prints the brew command', async (t) => {
  const run = ensureServices('postgresql rabbitmq', 'brew')
  t.equal(run.status, 1)
  t.match(run.out, /not installed: PostgreSQL, RabbitMQ/)
  t.match(run.out, /^Install with: {2}brew install postgresql@16 rabbitmq$/m)
})

t.test('elsewhere it says what to install, contrib extensions included', async (t) => {
  const run = ensureServices('postgresql', 'other')
  t.equal(run.status, 1)
  t.match(run.out, /not installed: PostgreSQL/)
  t.match(run.out, /cube and earthdistance/)
  t.notMatch(run.out, /apt-get|brew/)
})

t.test('as root on Debian it names the packages it would install', async (t) => {
  const run = ensureServices('postgresql redis', 'debian-root')
  t.equal(run.status, 1, 'the test variable stops it before apt-get runs')
  t.match(run.out, /would run: apt-get install -y postgresql postgresql-contrib redis-server$/m)
  t.notMatch(run.out, /installing/)
})
