import t from 'tap'
import { ACCOUNT_RECHECK_MS, AccountRoles } from './account-roles.js'
import type { UserRole } from './domain.js'

t.test('roles are read once per recheck time, again when a token names another or the account changed', async (t) => {
  let now = 0
  const stored = new Map<string, UserRole>([['u1', 'driver']])
  const reads: string[] = []
  const roles = new AccountRoles(async (id) => {
    reads.push(id)
    return stored.get(id) ?? null
  }, () => now)

  t.equal(await roles.role('u1'), 'driver')
  t.equal(await roles.role('u1', 'driver'), 'driver')
  t.same(reads, ['u1'], 'many sockets of one account cost one read')

  stored.set('u1', 'admin')
  t.equal(await roles.role('u1', 'admin'), 'admin', 'a token with another role than remembered reads again')
  t.equal(reads.length, 2)

  stored.set('u1', 'customer')
  now += ACCOUNT_RECHECK_MS - 1
  t.equal(await roles.role('u1'), 'admin', 'within the recheck time the remembered role stands')
  now += 1
  t.equal(await roles.role('u1'), 'customer', 'after it, the account is read again')

  stored.delete('u1')
  roles.forget('u1')
  t.equal(await roles.role('u1'), null, 'forgotten on a change, a deleted account is seen at once')
  t.equal(await roles.role('u1'), null, 'and a gone account is not remembered')
  t.equal(reads.length, 5)
})
