import type { Actor } from '../events/actor.js'

/** Roles of the contract. Devices are not users: they authenticate with API keys. */
export const USER_ROLES = ['admin', 'operator', 'customer', 'driver'] as const
export type UserRole = (typeof USER_ROLES)[number]
export type Role = UserRole | 'service'

export interface User {
  id: string
  email: string
  name: string
  role: UserRole
  createdAt: Date
}

/** A user with the secret parts the repository keeps; never leaves the auth package. */
export interface StoredUser extends User {
  passwordHash: string | null
}

/** Who is calling: a user (own account or an external identity provider's) or a service client. */
export interface Principal {
  id: string
  role: Role
  kind: 'user' | 'service'
  email?: string
  name?: string
}

export interface TokenPair {
  accessToken: string
  refreshToken: string
}

export interface ServiceClient {
  id: string
  clientId: string
  name: string
  createdAt: Date
}

/** Who caused what a principal's request records: a user (with their name now) or a service client. */
export function actorOf(principal: Principal): Actor {
  const actor: Actor = { type: principal.kind, id: principal.id, role: principal.role }
  if (principal.name) actor.name = principal.name
  return actor
}

export const isUserRole = (value: unknown): value is UserRole =>
  typeof value === 'string' && (USER_ROLES as readonly string[]).includes(value)

/** Roles that may read every package (the rest see only their own). */
export const SEES_ALL: ReadonlySet<Role> = new Set<Role>(['admin', 'operator', 'service'])

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}
