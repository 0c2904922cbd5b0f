import type { RateLimitStoreFactory } from '../platform/http/rate-limit-store.js'

/** Spends one unit of a client address's `/track` budget; false when it is used up. */
export type TrackBudget = (ip: string) => Promise<boolean>

/**
 * The budget of `GET <trackUrl>` (RATE_LIMIT_TRACK_MAX per minute per IP), counted
 * in the same store and under the same key as the route's own limit, so `track:`
 * subscriptions and REST lookups from one address draw on one count. While the
 * store fails the subscription goes through, as the route's limiter lets requests
 * through then.
 */
export function trackBudget(store: RateLimitStoreFactory, trackUrl: string, max: number): TrackBudget {
  // The route's limiter keys its counter by method and URL (childPrefix); this is that counter.
  const counter = new store({}).child({ routeInfo: { method: 'GET', url: trackUrl } } as unknown as Parameters<InstanceType<RateLimitStoreFactory>['child']>[0])
  return (ip) =>
    new Promise((resolve) => {
      counter.incr(`track:${ip}`, (err, result) => resolve(err !== null || result === undefined || result.current <= max), 60_000, max)
    })
}
