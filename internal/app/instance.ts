import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { Config } from '../config/config.js'

/** This process's id (INSTANCE_ID, or host, pid and a random tag): names its hub queue and marks what it records. */
export function instanceIdOf(config: Config): string {
  return config.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
}
