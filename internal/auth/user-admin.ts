import { conflict, notFound } from '../platform/errors.js'
import type { Principal, User, UserRole } from './domain.js'
import type { AccessChanges, UserRepository } from './ports.js'

export interface UserAdminDeps {
  users: UserRepository
  /** This gateway's sockets; other gateways hear of the change from the repository's notice. */
  access: AccessChanges
}

/** Admins change and delete accounts; whatever the account could read stops reaching its sockets at once. */
export class UserAdminService {
  constructor(private readonly deps: UserAdminDeps) {}

  async change(admin: Principal, id: string, patch: { role?: UserRole; name?: string }): Promise<User> {
    if (patch.role && id === admin.id && patch.role !== 'admin') throw conflict('you cannot take the admin role from your own account')
    const user = await this.deps.users.change(id, { ...patch, name: patch.name?.trim() })
    if (!user) throw notFound('user')
    if (patch.role) this.deps.access.userChanged(id)
    return user
  }

  /** Deletes the account; its refresh tokens go with it, so no new access token can be had. */
  async remove(admin: Principal, id: string): Promise<void> {
    if (id === admin.id) throw conflict('you cannot delete your own account')
    if (!(await this.deps.users.remove(id))) throw notFound('user')
    this.deps.access.userChanged(id)
  }
}
