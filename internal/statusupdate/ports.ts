import type { Package } from '../package/domain.js'
import type { Change } from '../package/entity.js'
import type { Written } from '../package/ports.js'
import type { Client, QueuedUpdate, StatusUpdate, UpdateRecord } from './domain.js'

/** How an update fared: applied (with what was written), refused (with why), or already settled before. */
export type ApplyOutcome = { state: 'applied'; written: Written } | { state: 'refused'; reason: string } | { state: 'settled' }

/**
 * Decides a status change on the package as the synchronous route would (the
 * package service's rules); throws an AppError to refuse it. `latestStatusAt` is
 * when the package's latest status change occurred (none: never changed); `client`
 * and `update` are the update as first recorded (a repeat's content never counts).
 */
export type Decide = (pkg: Package, ctx: { latestStatusAt: Date | undefined; client: Client; update: StatusUpdate }) => Promise<Change>

/**
 * The updates' durable record in PostgreSQL: the queue's outbox and each update's
 * outcome.
 */
export interface StatusUpdateStore {
  /**
   * Records the batch (in the given order) in one transaction; an externalId the
   * client already used is a duplicate and changes nothing. Returns how many were new.
   */
  enqueue(client: Client, updates: readonly StatusUpdate[], requestId?: string): Promise<{ accepted: number; duplicates: number }>
  /** The client's update; without a client, the newest with that externalId (admins). */
  get(externalId: string, clientId?: string): Promise<UpdateRecord | null>
  /**
   * Applies the update exactly once: records it if absent (published straight to
   * the queue: a service client `clientId`), and, if still queued, lets `decide` judge it on the locked package
   * and writes the change with the update's outcome in one transaction. An AppError
   * from `decide` (or an unknown number) is recorded as the refusal; anything else
   * rolls back and rejects, so the update stays queued for a retry.
   */
  apply(clientId: string, update: StatusUpdate, decide: Decide): Promise<ApplyOutcome>
  /**
   * Says why a still-queued update is not being applied (every attempt failed; it
   * waits in the dead letters for an operator). It stays queued: requeued, it applies.
   */
  hold(clientId: string, externalId: string, reason: string): Promise<void>
  /**
   * Hands unpublished updates to `publish` in insertion order and stamps them
   * published if it resolves (at-least-once: a crash in between publishes again,
   * and the apply is idempotent). One drain at a time across processes, so order
   * per package holds. Returns how many it published.
   */
  drain(limit: number, publish: (batch: QueuedUpdate[]) => Promise<void>): Promise<number>
  /**
   * Marks every still-queued update unpublished, so the relay hands it over again.
   * Only for a queue that lives in the process (embedded mode), at start: what it
   * held died with the previous process.
   */
  unpublishQueued(): Promise<number>
}

/** The queue between the gateways and the `status-updates` workers. */
export interface StatusUpdateQueue {
  /** True while messages can be published. */
  readonly connected: boolean
  /**
   * Publishes in the given order; resolves once the broker holds each one durably,
   * rejects (never hangs) when it cannot.
   */
  publish(batch: readonly QueuedUpdate[]): Promise<void>
}

/** What a worker does with one update taken off the queue; rejects to have it retried. */
export type UpdateHandler = (message: QueuedUpdate) => Promise<void>
