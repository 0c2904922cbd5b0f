import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** An IoT tracker. It posts locations for the package it is bound to, with an API key. */
export interface Device {
  id: string
  name: string
  /** The bound package (null: unbound, or the package was deleted). */
  packageId: string | null
  trackingNumber: string | null
  createdAt: Date
  lastSeenAt: Date | null
}

/** A device whose API key was just verified, as ingest needs it. */
export interface AuthenticatedDevice extends Device {
  keyPrefix: string
}

/**
 * API keys look like `dtk_<prefix>_<secret>`: the 8-character prefix finds the
 * device (and names its rate-limit bucket), the 256-bit secret proves it. Only
 * sha256 of the whole key is stored: the key is random and long, so a fast hash is
 * enough (a slow KDF would only slow every ingest down) and a stolen table does not
 * reveal keys.
 */
export const KEY_PATTERN = /^dtk_([a-z2-7]{8})_([A-Za-z0-9_-]{43})$/

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

export interface NewKey {
  key: string
  prefix: string
  hash: Buffer
}

export function generateKey(): NewKey {
  let prefix = ''
  for (const b of randomBytes(8)) prefix += BASE32[b & 31]
  const key = `dtk_${prefix}_${randomBytes(32).toString('base64url')}`
  return { key, prefix, hash: hashKey(key) }
}

/** The lookup prefix of a well-formed key, or undefined. */
export function keyPrefix(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1]
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest()
}

/** Constant-time check of a presented key against the stored hash. */
export function keyMatches(key: string, storedHash: Buffer): boolean {
  const hash = hashKey(key)
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash)
}

/** Names are trimmed; 1..200 characters. */
export function normalizeName(name: string): string {
  return name.trim()
}
