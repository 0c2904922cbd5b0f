import type { Hub } from '../platform/hub/hub.js'
import type { ChannelMessage } from './connection.js'
import type { EventEnvelope } from '../events/envelope.js'
import { redact } from './redact.js'

export interface TrackerLookup {
  /** Ids of the users tracking the package with this number. */
  trackers(trackingNumber: string): Promise<string[]>
}

export const eventJson = (channel: string, env: EventEnvelope) => JSON.stringify({ type: 'event', channel, event: env })

/** The serializer of a channel: the guest channel gets the redacted event. */
export function serializerFor(channel: string): (env: EventEnvelope) => string {
  return channel.startsWith('track:') ? (env) => eventJson(channel, redact(env)) : (env) => eventJson(channel, env)
}

/**
 * Routes each consumed event to the channels that may see it: `package:<tn>`,
 * `track:<tn>` (redacted; no live locations), `all`, and `user:<id>` of every user
 * tracking the package. Each message is serialized once per channel, not per client.
 */
export class EventRouter {
  private userChain: Promise<void> = Promise.resolve()
  routed = 0

  constructor(
    private readonly hub: Hub<ChannelMessage>,
    private readonly trackers: TrackerLookup,
    private readonly log: { warn(o: object, m: string): void },
  ) {}

  route(env: EventEnvelope): void {
    this.routed++
    const tn = env.trackingNumber
    const base = { trackingNumber: tn, seq: env.seq }
    const pkg = `package:${tn}`
    if (this.hub.hasSubscribers(pkg)) this.hub.publish(pkg, { ...base, json: eventJson(pkg, env) })
    const track = `track:${tn}`
    if (env.type !== 'package.location' && this.hub.hasSubscribers(track)) this.hub.publish(track, { ...base, json: eventJson(track, redact(env)) })
    if (this.hub.hasSubscribers('all')) this.hub.publish('all', { ...base, json: eventJson('all', env) })
    if (this.hub.hasKind('user')) {
      // One chain keeps a package's events in order on user channels despite the lookup.
      this.userChain = this.userChain.then(() => this.routeToUsers(env)).catch((err: unknown) => this.log.warn({ err }, 'could not route an event to user channels'))
    }
  }

  private async routeToUsers(env: EventEnvelope): Promise<void> {
    for (const userId of await this.trackers.trackers(env.trackingNumber)) {
      const channel = `user:${userId}`
      if (this.hub.hasSubscribers(channel)) this.hub.publish(channel, { trackingNumber: env.trackingNumber, seq: env.seq, json: eventJson(channel, env) })
    }
  }

  /** Resolves when user-channel routing has caught up (tests, shutdown). */
  settled(): Promise<void> {
    return this.userChain
  }
}
