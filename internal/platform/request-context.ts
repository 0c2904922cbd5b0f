import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * The request a piece of work belongs to, carried through its async calls: set by
 * the gateway for each HTTP request, and by a worker for each event it handles (the
 * event's `requestId`). Events written meanwhile record it, and loggers built with
 * requestIdMixin print it, without every function in between passing it on.
 */
const storage = new AsyncLocalStorage<{ requestId: string }>()

/** Runs `fn` as part of the request `requestId` (as is, when there is none). */
export function withRequestId<T>(requestId: string | undefined, fn: () => T): T {
  return requestId ? storage.run({ requestId }, fn) : fn()
}

/** The request id of the work in hand, if it has one. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId
}

/** A pino `mixin`: every log line written for a request's work names the request. */
export function requestIdMixin(): { requestId?: string } {
  const requestId = currentRequestId()
  return requestId ? { requestId } : {}
}
