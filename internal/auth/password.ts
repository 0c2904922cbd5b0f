import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import type { PasswordHasher } from './ports.js'

const KEY_LEN = 32

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
  constructor(private readonly cost = 32_768) {}

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16)
    const r = 8
    const p = 1
    const key = await scryptAsync(password, salt, { N: this.cost, r, p, maxmem: 256 * this.cost * r })
    return ['scrypt', this.cost, r, p, salt.toString('base64url'), key.toString('base64url')].join('$')
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const [algo, n, r, p, salt, hash] = stored.split('$')
    if (algo !== 'scrypt' || !n || !r || !p || !salt || !hash) return false
    const N = Number(n)
    const R = Number(r)
    const expected = Buffer.from(hash, 'base64url')
    const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), { N, r: R, p: Number(p), maxmem: 256 * N * R })
    return key.length === expected.length && timingSafeEqual(key, expected)
  }
}
