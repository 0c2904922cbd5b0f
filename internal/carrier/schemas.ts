import { Type } from 'typebox'
import { STATUSES, type PackageStatus } from '../package/domain.js'
import { DateTimeOut } from '../platform/http/schemas.js'

const Status = Type.Unsafe<PackageStatus>({ type: 'string', enum: [...STATUSES] })
const Tn = Type.String({ minLength: 1, maxLength: 64, description: 'Trimmed and upper-cased.' })
const NullableDate = Type.Union([DateTimeOut, Type.Null()])

export const RefreshParams = Type.Object({ tn: Tn })
export const RefreshResult = Type.Object({
  jobId: Type.String({ description: "The tracking's job id (its package id): the same id GET /carrier-sync/jobs lists." }),
  scheduledFor: Type.Unsafe<Date>({ type: 'string', format: 'date-time', description: 'When a worker may pick it up: now, or the check already in flight.' }),
})

export const BulkBody = Type.Object(
  {
    trackingNumbers: Type.Optional(Type.Array(Tn, { minItems: 1, maxItems: 500 })),
    status: Type.Optional(Status),
    carrier: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    staleForMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 525_600, description: 'Only trackings not checked for this long (never checked ones included).' })),
  },
  { additionalProperties: false },
)
export const BulkResult = Type.Object({
  queued: Type.Integer(),
  skipped: Type.Integer({ description: 'Named numbers not queued (unknown, not external, final or in flight); with filters, matching trackings in flight or past the 500 cap.' }),
})

const JobTypeSchema = Type.Union([Type.Literal('scheduled'), Type.Literal('manual'), Type.Literal('retry'), Type.Literal('cleanup')])
export const JobsQuery = Type.Object(
  {
    state: Type.Optional(Type.Union(['pending', 'running', 'completed', 'failed', 'attention'].map((s) => Type.Literal(s)), { description: '`attention`: trackings requiring attention, whatever their state.' })),
    type: Type.Optional(JobTypeSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 100 })),
  },
  { additionalProperties: false },
)
const StateCountsSchema = Type.Object({ pending: Type.Integer(), running: Type.Integer(), completed: Type.Integer(), failed: Type.Integer() })
const JobItemSchema = Type.Object({
  jobId: Type.String(),
  trackingNumber: Type.String(),
  carrier: Type.String(),
  type: Type.Union([Type.Literal('scheduled'), Type.Literal('manual'), Type.Literal('retry')]),
  state: Type.Union([Type.Literal('pending'), Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]),
  priority: Type.Integer(),
  scheduledFor: NullableDate,
  startedAt: NullableDate,
  consecutiveFailures: Type.Integer(),
  requiresAttention: Type.Boolean(),
  lastCheckedAt: NullableDate,
  error: Type.Union([Type.String(), Type.Null()]),
})
export const JobsResult = Type.Object({
  counts: Type.Object({ scheduled: StateCountsSchema, manual: StateCountsSchema, retry: StateCountsSchema, cleanup: StateCountsSchema }),
  oldestPendingAgeS: Type.Integer({ description: 'Seconds the longest-waiting due check has waited (0: none).' }),
  items: Type.Array(JobItemSchema),
})

export const UsageQuery = Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 30, default: 7 })) }, { additionalProperties: false })
const Counted = Type.Object({ calls: Type.Integer(), failures: Type.Integer() })
export const UsageResult = Type.Object({
  today: Type.Object({
    calls: Type.Integer({ description: 'Provider calls counted against the budget today (UTC).' }),
    budget: Type.Integer(),
    reserve: Type.Integer({ description: 'The part of the budget kept for manual refreshes.' }),
    remaining: Type.Integer(),
    successRate: Type.Union([Type.Number(), Type.Null()], { description: '0..1 over today\'s logged checks; null before the first.' }),
    p95Ms: Type.Union([Type.Integer(), Type.Null()]),
  }),
  byDay: Type.Array(Type.Object({ day: Type.String({ format: 'date' }), calls: Type.Integer(), failures: Type.Integer(), statusChanges: Type.Integer() })),
  byCarrier: Type.Record(Type.String(), Counted),
})

export const LogQuery = Type.Object(
  {
    trackingNumber: Type.Optional(Tn),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
)
const LogEntrySchema = Type.Object({
  id: Type.String(),
  trackingNumber: Type.String(),
  carrier: Type.String(),
  provider: Type.String(),
  type: Type.Union([Type.Literal('scheduled'), Type.Literal('manual'), Type.Literal('webhook')]),
  triggeredBy: Type.String({ description: "`schedule`, `read` (an overdue read pulled it), an admin's user id, or the provider of a push." }),
  success: Type.Boolean(),
  statusCode: Type.Optional(Type.Integer()),
  durationMs: Type.Integer(),
  error: Type.Optional(Type.String()),
  statusChanged: Type.Boolean(),
  previousStatus: Type.Optional(Status),
  newStatus: Type.Optional(Status),
  eventsAdded: Type.Integer(),
  startedAt: DateTimeOut,
})
export const LogResult = Type.Object({ items: Type.Array(LogEntrySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) })

export const WebhookParams = Type.Object({ provider: Type.String({ minLength: 1, maxLength: 50 }) })
export const WebhookResult = Type.Object({
  applied: Type.Boolean({ description: 'False: the number is not one of our carrier trackings (acknowledged, nothing done).' }),
  eventsAdded: Type.Integer({ description: '0 for a push already applied.' }),
})
