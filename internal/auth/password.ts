import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import type { PasswordHasher } from './ports.js'

const KEY_LEN = 32
const MAX_COST = 1_048_576
const MAX_MEMORY = 1024 ** 3

/** The stored string's decimal field, or 0 when it is not one. */
const field = (v: string | undefined): number => (v !== undefined && /^[0-9]{1,8}$/.test(v) ? Number(v) : 0)
export const isScryptCost = (n: number): boolean => Number.isInteger(n) && n >= 2 && n <= MAX_COST && (n & (n - 1)) === 0

function scryptAsync(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LEN, opts, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/**
 * scrypt with the cost in the stored string (`scrypt$N$r$p$salt$hash`), so raising
 * the cost later still verifies old hashes. Runs on libuv's thread pool.
 */
export class ScryptHasher implements PasswordHasher {
  constructor(private readonly cost = 32_768) {
    // Fail at start-up, not on the first sign-in.
    if (!isScryptCost(cost)) throw new RangeError(`scrypt cost must be a power of two in 2..${MAX_COST}, got ${cost}`)
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16)
    const r = 8
    const p = 1
    const key = await scryptAsync(password, salt, { N: this.cost, r, p, maxmem: 256 * this.cost * r })
    return ['scrypt', this.cost, r, p, salt.toString('base64url'), key.toString('base64url')].join('$')
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const parts = stored.split('$')
    const [algo, n, r, p, salt, hash] = parts
    if (parts.length !== 6 || algo !== 'scrypt' || !salt || !hash) return false
    const N = field(n)
    const R = field(r)
    const P = field(p)
    // A corrupt row must answer false, not throw (a 500) or ask scrypt for gigabytes.
    if (!isScryptCost(N) || R < 1 || P < 1 || P > 16 || 128 * N * R > MAX_MEMORY) return false
    const expected = Buffer.from(hash, 'base64url')
    if (expected.length !== KEY_LEN) return false
    let key: Buffer
    try {
      key = await scryptAsync(password, Buffer.from(salt, 'base64url'), { N, r: R, p: P, maxmem: 256 * N * R })
    } catch {
      return false
    }
    return timingSafeEqual(key, expected)
  }
}
