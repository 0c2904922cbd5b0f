/** Kinds of who can cause an event (the contract's `actor.type`). */
export type ActorType = 'user' | 'service' | 'device' | 'carrier' | 'system'

/**
 * Who caused an event. `name` extends the contract: a user's display name at the
 * time, so the console can say who without a user lookup operators may not make.
 */
export interface Actor {
  type: ActorType
  id?: string
  role?: string
  name?: string
}

/** Scripts, workers and database-side changes that no request caused. */
export const SYSTEM_ACTOR: Actor = Object.freeze({ type: 'system' })

/** Roles that may see who caused an event (the contract: staff; service clients are staff-owned). */
const SEES_ACTOR = new Set(['admin', 'operator', 'service'])

export function seesActor(role: string | undefined): boolean {
  return role !== undefined && SEES_ACTOR.has(role)
}
