/** What a call that ran out of time rejects with; `message` says what did not answer and how long it was given. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError'
}

/**
 * Settles like `work`, or rejects with a TimeoutError after `ms`. The work itself
 * is not cancelled (a hung socket cannot be): callers that poll share one pending
 * call (see `singleFlight`) so a dependency that never answers does not pile them up.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}

/** Calls `fn` only when no earlier call is still pending; meanwhile every caller shares the pending one. */
export function singleFlight<T>(fn: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined
  return () =>
    (pending ??= fn().finally(() => {
      pending = undefined
    }))
}
