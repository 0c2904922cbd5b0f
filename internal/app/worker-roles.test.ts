import t from 'tap'
import { parseWorkerRoles } from './worker-roles.js'

t.test('--only picks queue roles and the carriers poller', async (t) => {
  t.same(parseWorkerRoles('carriers', {}), { queues: [], pollers: ['carriers'], ownQueues: [] })
  t.same(parseWorkerRoles('notify, carriers,archive', {}), { queues: ['notify', 'archive'], pollers: ['carriers'], ownQueues: [] })
  t.same(parseWorkerRoles('status-updates', {}), { queues: [], pollers: [], ownQueues: ['status-updates'] })
  t.throws(() => parseWorkerRoles('notify,carrier', {}), /unknown worker role "carrier" \(expected archive, .*metrics, carriers, status-updates\)/)
})

t.test('without --only: every queue role, and carriers only when a provider is set', async (t) => {
  t.same(parseWorkerRoles(undefined, {}).pollers, [])
  t.same(parseWorkerRoles(undefined, { CARRIER_PROVIDER: 'sandbox' }).pollers, ['carriers'])
  t.ok(parseWorkerRoles(undefined, {}).queues.includes('archive'))
})
