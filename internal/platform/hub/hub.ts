/**
 * A subscriber of the hub: one WebSocket connection, or anything that can take a
 * message. `deliver` must not throw and must not block; it owns its own buffering.
 */
export interface Subscriber<M> {
  readonly id: number
  deliver(channel: string, message: M): void
}

/**
 * In-process channel registry between consumed events and connections.
 * Guarantees: a message published to a channel reaches every subscriber registered
 * at that moment, in publish order per channel; publish never waits on a
 * subscriber. Not thread-shared: one event loop owns it.
 */
export class Hub<M> {
  private readonly channelSets = new Map<string, Set<Subscriber<M>>>()
  private subscriptionCount = 0
  // Live channels per kind (the part before ':'), so routing can skip a kind nobody listens to.
  private readonly kinds = new Map<string, number>()
  delivered = 0

  subscribe(channel: string, subscriber: Subscriber<M>): boolean {
    let set = this.channelSets.get(channel)
    if (!set) {
      this.channelSets.set(channel, (set = new Set()))
      this.countKind(channel, 1)
    }
    if (set.has(subscriber)) return false
    set.add(subscriber)
    this.subscriptionCount++
    return true
  }

  unsubscribe(channel: string, subscriber: Subscriber<M>): boolean {
    const set = this.channelSets.get(channel)
    if (!set?.delete(subscriber)) return false
    if (set.size === 0) {
      this.channelSets.delete(channel)
      this.countKind(channel, -1)
    }
    this.subscriptionCount--
    return true
  }

  publish(channel: string, message: M): number {
    const set = this.channelSets.get(channel)
    if (!set) return 0
    // A snapshot: a subscriber added by a deliver() (re-entrantly) must not get a
    // message published before it subscribed, and a live Set would hand it over.
    const subscribers = [...set]
    for (const subscriber of subscribers) subscriber.deliver(channel, message)
    this.delivered += subscribers.length
    return subscribers.length
  }

  /** The channel's subscribers at this moment (a copy). */
  subscribersOf(channel: string): Array<Subscriber<M>> {
    return [...(this.channelSets.get(channel) ?? [])]
  }

  hasSubscribers(channel: string): boolean {
    return (this.channelSets.get(channel)?.size ?? 0) > 0
  }

  /** Channels with at least one subscriber whose name starts with the prefix. */
  channels(prefix = ''): string[] {
    const out: string[] = []
    for (const name of this.channelSets.keys()) if (name.startsWith(prefix)) out.push(name)
    return out
  }

  /** True when any channel of the kind (`user` for `user:...`) has a subscriber. */
  hasKind(kind: string): boolean {
    return (this.kinds.get(kind) ?? 0) > 0
  }

  private countKind(channel: string, delta: number): void {
    const colon = channel.indexOf(':')
    const kind = colon < 0 ? channel : channel.slice(0, colon)
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + delta)
  }

  get subscriptions(): number {
    return this.subscriptionCount
  }
}
