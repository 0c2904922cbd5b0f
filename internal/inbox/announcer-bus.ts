import type { Bus } from '../events/bus.js'
import { NOTIFICATION_CREATED, type EventEnvelope } from '../events/envelope.js'
import { itemOf } from './domain.js'
import type { Announcer, Delivered } from './ports.js'

/** Messages per publish: a status change with many trackers goes out in a few confirmed bursts. */
const CHUNK = 500

/** The live notice of one notification: no seq (never logged), routed by the gateways to `user:<data.userId>` only. */
export function noticeOf(d: Delivered): EventEnvelope {
  const at = d.createdAt.toISOString()
  return { id: d.id, type: NOTIFICATION_CREATED, trackingNumber: d.trackingNumber ?? '', occurredAt: at, recordedAt: at, data: { userId: d.userId, notification: itemOf(d) } }
}

/**
 * Announces through the topic exchange with routing key `notification.created`:
 * every gateway's hub is bound to it, no role queue is (the archive, notify and
 * webhooks take package events only). No origin: each gateway, the worker's own
 * process included in the embedded mode, routes it to its sockets.
 */
export class BusAnnouncer implements Announcer {
  constructor(private readonly bus: Bus) {}

  async announce(delivered: readonly Delivered[]): Promise<void> {
    for (let i = 0; i < delivered.length; i += CHUNK) await this.bus.publish(delivered.slice(i, i + CHUNK).map((d) => ({ event: noticeOf(d) })))
  }
}
