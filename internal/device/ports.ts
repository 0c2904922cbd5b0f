import type { Device } from './domain.js'

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

/** A device row with the secret parts; never leaves the device package. */
export interface StoredDevice extends Device {
  keyPrefix: string
  keyHash: Buffer
}

export interface DeviceRepository {
  /** Inserts an active device. Conflict (AppError conflict) when the key prefix is taken. */
  create(input: { name: string; keyPrefix: string; keyHash: Buffer; packageId: string | null }): Promise<Device>
  /** Active (not revoked) devices, newest first. */
  list(limit: number, cursor?: string): Promise<Page<Device>>
  /**
   * The active device holding this key prefix, read from the database on every
   * call (no cache), so a revocation takes effect at once on every gateway.
   * A device bound to a deleted package comes back unbound.
   */
  byKeyPrefix(prefix: string): Promise<StoredDevice | null>
  /** Binds an active device to a package (null unbinds). Null when there is no such active device. */
  bind(id: string, packageId: string | null): Promise<Device | null>
  /** Revokes an active device; its key stops working. False when there was none. */
  revoke(id: string, at: Date): Promise<boolean>
  /** Sets lastSeenAt, never moving it backwards. */
  touch(id: string, at: Date): Promise<void>
}

/** Resolves a tracking number to a live package id (devices bind to packages). */
export interface PackageLookup {
  /** The package's id, or null when no live package has the number. */
  idOf(trackingNumber: string): Promise<string | null>
}
