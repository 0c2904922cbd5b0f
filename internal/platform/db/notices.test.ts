import { randomBytes } from 'node:crypto'
import t from 'tap'
import { isolate } from '../testing/harness.js'
import { accessPayload, listenForNotices, parseAccessNotice } from './notices.js'

t.test('notices: delivered after commit only, and a broken listener says it resumed', async (t) => {
  const iso = await isolate(t)
  const channel = `notices_test_${randomBytes(4).toString('hex')}`
  const heard: string[] = []
  let resumed = 0
  const waiters: Array<() => void> = []
  const until = (check: () => boolean) => new Promise<void>((resolve) => {
    const poll = () => (check() ? resolve() : waiters.push(poll))
    poll()
  })
  const wake = () => {
    for (const w of waiters.splice(0)) w()
  }
  const stop = await listenForNotices(iso.pool, channel, {
    notice: (p) => {
      heard.push(p ?? '')
      wake()
    },
    resumed: () => {
      resumed++
      wake()
    },
    log: { warn: () => undefined },
  }, 10)
  t.teardown(stop)

  const client = await iso.pool.connect()
  await client.query('BEGIN')
  await client.query(`SELECT pg_notify('${channel}', $1)`, [accessPayload({ userId: 'rolled-back', origin: null })])
  await client.query('ROLLBACK')
  await client.query(`SELECT pg_notify('${channel}', $1)`, [accessPayload({ userId: 'u1', origin: 'gw-a' })])
  client.release()
  await until(() => heard.length >= 1)
  t.same(heard.map(parseAccessNotice), [{ userId: 'u1', origin: 'gw-a' }], 'the rolled-back notice never came')

  await iso.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, [`LISTEN ${channel}`])
  await until(() => resumed === 1)
  t.equal(resumed, 1, 'told to re-check once it listens again')
  await iso.pool.query(`SELECT pg_notify('${channel}', 'after')`)
  await until(() => heard.length >= 2)
  t.equal(heard[1], 'after', 'and it hears new notices')
  t.equal(parseAccessNotice('not json'), undefined)
})
