import { normalizeTrackingNumber } from '../package/domain.js'
import { AppError, notFound, unauthorized } from '../platform/errors.js'
import { generateKey, keyMatches, keyPrefix, normalizeName, type AuthenticatedDevice, type Device } from './domain.js'
import type { DeviceRepository, PackageLookup, Page } from './ports.js'

export interface DeviceServiceDeps {
  devices: DeviceRepository
  packages: PackageLookup
  clock?: () => Date
}

/**
 * lastSeenAt is written at most this often per device: a device posting every
 * second should not cost a devices-table write per batch.
 */
export const LAST_SEEN_RESOLUTION_MS = 5_000

const badKey = () => unauthorized('the x-api-key is missing, malformed, unknown or revoked')

/** Device registry and API-key authentication. */
export class DeviceService {
  private readonly now: () => Date

  constructor(private readonly deps: DeviceServiceDeps) {
    this.now = deps.clock ?? (() => new Date())
  }

  /** Registers a device; the returned key is shown this once and stored only as a hash. */
  async create(input: { name: string; trackingNumber?: string }): Promise<{ device: Device; apiKey: string }> {
    const packageId = input.trackingNumber === undefined ? null : await this.packageId(input.trackingNumber)
    // A prefix collision (40 random bits) is astronomically rare; retry rather than fail.
    for (let attempt = 0; ; attempt++) {
      const { key, prefix, hash } = generateKey()
      try {
        const device = await this.deps.devices.create({ name: normalizeName(input.name), keyPrefix: prefix, keyHash: hash, packageId })
        return { device, apiKey: key }
      } catch (err) {
        if (!(err instanceof AppError && err.kind === 'conflict') || attempt >= 3) throw err
      }
    }
  }

  list(limit: number, cursor?: string): Promise<Page<Device>> {
    return this.deps.devices.list(limit, cursor)
  }

  /** Binds the device to the package with this number (null unbinds). */
  async bind(id: string, trackingNumber: string | null): Promise<Device> {
    const packageId = trackingNumber === null ? null : await this.packageId(trackingNumber)
    const device = await this.deps.devices.bind(id, packageId)
    if (!device) throw notFound('device')
    return device
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.deps.devices.revoke(id, this.now()))) throw notFound('device')
  }

  /**
   * The device holding this key; 401 unauthorized for a missing, malformed,
   * unknown or revoked key (one message for all, so nothing is learned from it).
   */
  async authenticate(key: string | undefined): Promise<AuthenticatedDevice> {
    const prefix = key === undefined ? undefined : keyPrefix(key)
    if (!key || !prefix) throw badKey()
    const stored = await this.deps.devices.byKeyPrefix(prefix)
    if (!stored || !keyMatches(key, stored.keyHash)) throw badKey()
    const { keyHash: _hash, ...device } = stored
    return device
  }

  /** Records that the device delivered data (at most once per LAST_SEEN_RESOLUTION_MS). */
  async seen(device: Pick<Device, 'id' | 'lastSeenAt'>): Promise<void> {
    const now = this.now()
    if (device.lastSeenAt && now.getTime() - device.lastSeenAt.getTime() < LAST_SEEN_RESOLUTION_MS) return
    await this.deps.devices.touch(device.id, now)
  }

  private async packageId(rawTn: string): Promise<string> {
    const tn = normalizeTrackingNumber(rawTn)
    const id = await this.deps.packages.idOf(tn)
    if (!id) throw notFound(`package ${tn}`)
    return id
  }
}
