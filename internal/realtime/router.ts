import type { Hub } from '../platform/hub/hub.js'
import type { ChannelMessage } from './connection.js'
import { NOTIFICATION_CREATED, withoutActor, type EventEnvelope } from '../events/envelope.js'
import { redact } from './redact.js'

/** Who hears of a package on their `user:` channel, and in which view. */
export interface AudienceLookup {
  /**
   * The owner, the assigned driver and the trackers of the package with this number, each with whether
   * they see it in full (owner, assigned driver, staff, by their role now) or only
   * its public view. Read fresh for every event, so a removed tracking, a changed
   * role or a deleted account counts at once.
   */
  audience(trackingNumber: string): Promise<Array<{ userId: string; full: boolean }>>
}

export const eventJson = (channel: string, env: EventEnvelope) => JSON.stringify({ type: 'event', channel, event: env })

/** The serializer of a channel: the guest channel gets the redacted event (Connection strips actors for non-staff). */
export function serializerFor(channel: string): (env: EventEnvelope) => string {
  return channel.startsWith('track:') ? (env) => eventJson(channel, redact(env)) : (env) => eventJson(channel, env)
}

/**
 * Routes each consumed event to the channels that may see it: `package:<tn>`,
 * `track:<tn>` (redacted; no live locations), `all`, and `user:<id>` of the
 * package's owner, driver and trackers (redacted, without locations, for those who only
 * see its public view); a `notification.created` to its user's channel alone.
 * Each message is serialized once per channel, not per client.
 */
export class EventRouter {
  private userChain: Promise<void> = Promise.resolve()
  /** Per user channel and package, whether the last routed event went out in full: gap fills follow it. */
  private readonly userViews = new Map<string, Map<string, boolean>>()
  routed = 0

  constructor(
    private readonly hub: Hub<ChannelMessage>,
    private readonly audience: AudienceLookup,
    private readonly log: { warn(o: object, m: string): void },
  ) {}

  route(env: EventEnvelope): void {
    this.routed++
    if (env.type === NOTIFICATION_CREATED) return this.routeNotification(env)
    const tn = env.trackingNumber
    const base = { trackingNumber: tn, seq: env.seq }
    const pkg = `package:${tn}`
    if (this.hub.hasSubscribers(pkg)) {
      // Two frames at most, whatever the subscribers: staff get the one naming the actor.
      const json = eventJson(pkg, withoutActor(env))
      this.hub.publish(pkg, env.actor ? { ...base, json, staffJson: eventJson(pkg, env) } : { ...base, json })
    }
    const track = `track:${tn}`
    if (env.type !== 'package.location' && this.hub.hasSubscribers(track)) this.hub.publish(track, { ...base, json: eventJson(track, redact(env)) })
    // The firehose is staff only: it carries actors.
    if (this.hub.hasSubscribers('all')) this.hub.publish('all', { ...base, json: eventJson('all', env) })
    if (this.hub.hasKind('user')) {
      // One chain keeps a package's events in order on user channels despite the lookup.
      this.userChain = this.userChain.then(() => this.routeToUsers(env)).catch((err: unknown) => this.log.warn({ err }, 'could not route an event to user channels'))
    }
  }

  /** A notification is private to its user: their `user:` channel alone, never `all` or the package's channels. */
  private routeNotification(env: EventEnvelope): void {
    const userId = env.data.userId
    if (typeof userId !== 'string') return this.log.warn({ id: env.id }, 'a notification event without data.userId')
    const channel = `user:${userId}`
    if (this.hub.hasSubscribers(channel)) this.hub.publish(channel, { trackingNumber: env.trackingNumber, json: eventJson(channel, withoutActor(env)) })
  }

  /**
   * The serializer of a `user:` channel, for the events a gap fill reads from the
   * log: in the view the channel's last live event of that package was routed in,
   * and redacted when none was.
   */
  userSerializer(channel: string): (env: EventEnvelope) => string {
    return (env) => (this.userViews.get(channel)?.get(env.trackingNumber) ? eventJson(channel, withoutActor(env)) : eventJson(channel, redact(env)))
  }

  /** The channel has no subscriber left here: forget its views. */
  forgetUser(channel: string): void {
    this.userViews.delete(channel)
  }

  private async routeToUsers(env: EventEnvelope): Promise<void> {
    const audience = await this.audience.audience(env.trackingNumber)
    // A driver whose offer was replaced is no longer in the audience; they still hear that it ended (redacted).
    const former = env.type === 'package.assignment_cancelled' ? env.data.driverId : undefined
    if (typeof former === 'string' && !audience.some((a) => a.userId === former)) audience.push({ userId: former, full: false })
    for (const { userId, full } of audience) {
      const channel = `user:${userId}`
      if (!this.hub.hasSubscribers(channel)) continue
      // Public-view readers get what track:<tn> carries: no live positions, no people.
      if (!full && env.type === 'package.location') continue
      let views = this.userViews.get(channel)
      if (!views) this.userViews.set(channel, (views = new Map()))
      views.set(env.trackingNumber, full)
      // A user's own channel never names actors, even for staff (they have package: and all).
      this.hub.publish(channel, { trackingNumber: env.trackingNumber, seq: env.seq, json: eventJson(channel, full ? withoutActor(env) : redact(env)) })
    }
  }

  /** Resolves when user-channel routing has caught up (tests, shutdown). */
  settled(): Promise<void> {
    return this.userChain
  }
}
