import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { NoContent, responses } from '../platform/http/schemas.js'
import { principalOf } from './authenticate.js'
import { Name, RoleSchema, UserSchema } from './schemas.js'
import type { UserAdminService } from './user-admin.js'

const UserIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) })
// The User shape without its $id: the shared one is registered in authRoutes' own scope.
const UserOut = Type.Object(UserSchema.properties)
const PatchUserBody = Type.Object({ role: Type.Optional(RoleSchema), name: Type.Optional(Name) }, { additionalProperties: false, minProperties: 1 })

/** PATCH and DELETE /users/:id (admin). */
export const userAdminRoutes: FastifyPluginAsync<{ users: UserAdminService }> = async (fastify, { users }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['auth']
  const security = [{ bearer: [] }]

  app.patch('/users/:id', {
    config: { roles: ['admin'] },
    schema: {
      tags,
      summary: 'Change a user’s role or name (admin)',
      description: 'A new role applies at once to the user’s open WebSocket subscriptions on every gateway; their access tokens keep the old role until they expire.',
      security,
      params: UserIdParams,
      body: PatchUserBody,
      response: responses({ 200: UserOut }),
    },
  }, async (request) => users.change(principalOf(request), request.params.id, request.body))

  app.delete('/users/:id', {
    config: { roles: ['admin'] },
    schema: {
      tags,
      summary: 'Delete a user (admin)',
      description: 'Revokes the user’s refresh tokens and removes their tracking list; their open WebSocket subscriptions end at once on every gateway.',
      security,
      params: UserIdParams,
      response: responses({ 204: NoContent }),
    },
  }, async (request, reply) => {
    await users.remove(principalOf(request), request.params.id)
    return reply.code(204).send(null)
  })
}
