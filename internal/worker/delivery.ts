import type { Message } from 'amqplib'
import { isEnvelope, type EventEnvelope } from '../realtime/envelope.js'

/** One event handed to a worker role, with where it stands in its retry budget. */
export interface Delivery {
  event: EventEnvelope
  /** 1 on the first try; grows each time the message comes back from a delay queue. */
  attempt: number
  /** True on the last attempt: a failure now dead-letters the message. */
  final: boolean
}

/**
 * A worker role. `handle` resolves once the event's work is done and durable
 * (the message is acknowledged only then) and rejects to have it retried later;
 * handlers are idempotent by event id, because delivery is at-least-once.
 */
export interface RoleHandler {
  readonly role: 'archive' | 'notify' | 'webhooks'
  handle(delivery: Delivery): Promise<void>
  /** Finish buffered work now instead of waiting for a timer (shutdown). */
  flush?(): Promise<void>
  /** Release timers and clients after the last message was acknowledged. */
  close?(): Promise<void>
}

/** A failure that no retry can cure (a malformed event): the message is dead-lettered at once. */
export class PermanentError extends Error {
  override name = 'PermanentError'
}

export interface WorkerLogger {
  info(o: object, m: string): void
  warn(o: object, m: string): void
  error(o: object, m: string): void
}

/** How one delivered message fared with its role's handler. */
export type Outcome =
  | { ok: true }
  | {
      ok: false
      err: Error
      attempt: number
      /** The failure needs no retry: dead-letter it now. */
      permanent: boolean
      /** It goes to the dead letters (permanent, or the last allowed attempt). */
      dead: boolean
    }

/** How many times rascal has forwarded this message on from `queue` (one per failed attempt). */
export function forwards(message: Message, queue: string): number {
  const headers = message.properties.headers as { rascal?: { recovery?: Record<string, { forwarded?: number }> } } | undefined
  return Number(headers?.rascal?.recovery?.[queue]?.forwarded ?? 0)
}

export interface RunOptions {
  handler: RoleHandler
  log: WorkerLogger
  /** The role's work queue, whose forward count gives the attempt. */
  workQueue: string
  maxAttempts: number
}

/**
 * Hands one message's parsed content to the role's handler and says what should
 * become of the message; a failure is logged here. Consumer and BatchConsumer
 * share it and differ only in how they acknowledge and forward.
 */
export async function runHandler(opts: RunOptions, message: Message, content: unknown): Promise<Outcome> {
  if (!isEnvelope(content)) return { ok: false, err: new PermanentError('not an event envelope'), attempt: 1, permanent: true, dead: true }
  const attempt = forwards(message, opts.workQueue) + 1
  try {
    await opts.handler.handle({ event: content, attempt, final: attempt >= opts.maxAttempts })
    return { ok: true }
  } catch (caught) {
    const err = caught instanceof Error ? caught : new Error(String(caught))
    const permanent = err instanceof PermanentError
    const dead = permanent || attempt >= opts.maxAttempts
    opts.log.warn({ role: opts.handler.role, eventId: content.id, attempt, err: err.message }, dead ? 'event dead-lettered' : 'event failed; retrying later')
    return { ok: false, err, attempt, permanent, dead }
  }
}
