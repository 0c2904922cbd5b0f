import type { EventActor } from '../api/types.js'

/** "by Dana (driver)", "by an operator", "by the system"; nothing when the event does not say. */
export function byActor(actor: EventActor | undefined): string | undefined {
  if (!actor) return undefined
  const kind = actor.role ?? actor.type
  if (actor.name) return `by ${actor.name} (${kind})`
  if (actor.type === 'system') return 'by the system'
  return `by ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`
}
