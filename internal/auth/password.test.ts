import t from 'tap'
import { ScryptHasher } from './password.js'

// The lowest cost config allows keeps the file fast; the format is the same at any cost.
const hasher = new ScryptHasher(1024)

t.test('a hash verifies the password it was made from and nothing else', async (t) => {
  const stored = await hasher.hash('correct horse battery')
  t.not(stored.includes('correct horse battery'), true, 'the password is not in the stored string')
  t.equal(await hasher.verify('correct horse battery', stored), true)
  t.equal(await hasher.verify('correct horse batterY', stored), false)
  t.equal(await hasher.verify('', stored), false)
})

t.test('passwords are compared as given (no trimming, unicode kept)', async (t) => {
  const stored = await hasher.hash('pässwörd ✓ ')
  t.equal(await hasher.verify('pässwörd ✓ ', stored), true)
  t.equal(await hasher.verify('pässwörd ✓', stored), false)
})

t.test('two hashes of the same password differ (random salt) and both verify', async (t) => {
  const a = await hasher.hash('same password')
  const b = await hasher.hash('same password')
  t.not(a, b)
  t.not(a.split('$')[4], b.split('$')[4], 'the salts differ')
  t.equal(await hasher.verify('same password', a), true)
  t.equal(await hasher.verify('same password', b), true)
})

t.test('a malformed stored hash answers false instead of throwing', async (t) => {
  const good = await hasher.hash('pw-123456')
  const [, n, r, p, salt, hash] = good.split('$')
  const malformed: Record<string, string> = {
    empty: '',
    garbage: 'not a hash',
    'other algorithm': ['bcrypt', n, r, p, salt, hash].join('$'),
    'missing hash': ['scrypt', n, r, p, salt].join('$'),
    'empty hash': ['scrypt', n, r, p, salt, ''].join('$'),
    'extra field': [good, 'x'].join('$'),
    'cost not a number': ['scrypt', 'abc', r, p, salt, hash].join('$'),
    'cost not a power of two': ['scrypt', '1000', r, p, salt, hash].join('$'),
    'cost zero': ['scrypt', '0', r, p, salt, hash].join('$'),
    'cost absurd': ['scrypt', '1099511627776', r, p, salt, hash].join('$'),
    'block size zero': ['scrypt', n, '0', p, salt, hash].join('$'),
    'negative parallelism': ['scrypt', n, r, '-1', salt, hash].join('$'),
    'truncated hash': ['scrypt', n, r, p, salt, hash!.slice(0, 10)].join('$'),
  }
  for (const [label, stored] of Object.entries(malformed)) {
    t.equal(await hasher.verify('pw-123456', stored), false, label)
  }
  t.equal(await hasher.verify('pw-123456', good), true, 'the well-formed original still verifies')
})

t.test('the cost is part of the stored string, so a change of cost keeps old hashes valid', async (t) => {
  const cheap = new ScryptHasher(1024)
  const dearer = new ScryptHasher(2048)
  const old = await cheap.hash('rotate me please')
  const fresh = await dearer.hash('rotate me please')
  t.match(old, /^scrypt\$1024\$8\$1\$[\w-]+\$[\w-]+$/)
  t.match(fresh, /^scrypt\$2048\$8\$1\$[\w-]+\$[\w-]+$/)
  t.equal(await dearer.verify('rotate me please', old), true, 'a hash made at 1024 verifies with a 2048 hasher')
  t.equal(await cheap.verify('rotate me please', fresh), true, 'a hash made at 2048 verifies with a 1024 hasher')
  t.equal(await dearer.verify('rotate me, please', old), false)
})

t.test('a cost scrypt cannot use is refused when the hasher is built, not at the first sign-in', async (t) => {
  t.throws(() => new ScryptHasher(20_000), RangeError)
  t.throws(() => new ScryptHasher(0), RangeError)
})
