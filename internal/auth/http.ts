import formbody from '@fastify/formbody'
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { unauthorized } from '../platform/errors.js'
import { NoContent, responses } from '../platform/http/schemas.js'
import { principalOf } from './authenticate.js'
import { LoginThrottled } from './login-throttle.js'
import type { AuthService } from './service.js'
import {
  AuthResultSchema,
  ClientCredentialsBody,
  ClientTokenSchema,
  CreateServiceClientBody,
  CreateUserBody,
  LoginBody,
  RefreshBody,
  RegisterBody,
  ServiceClientCreated,
  TokenPairSchema,
  UserSchema,
} from './schemas.js'

/** /auth/*, /users and /service-clients. */
export const authRoutes: FastifyPluginAsync<{ auth: AuthService }> = async (fastify, { auth }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.addSchema(UserSchema)
  const tags = ['auth']

  app.post('/auth/register', {
    config: { auth: 'none' },
    schema: { tags, summary: 'Create a customer account', body: RegisterBody, response: responses({ 201: AuthResultSchema }) },
  }, async (request, reply) => reply.code(201).send(await auth.register(request.body)))

  app.post('/auth/login', {
    config: { auth: 'none' },
    schema: {
      tags,
      summary: 'Sign in with email and password',
      description: 'Repeated failures for an account are slowed down: 429 rate_limited with retry-after (docs/security.md).',
      body: LoginBody,
      response: responses({ 200: AuthResultSchema }),
    },
  }, async (request, reply) => {
    try {
      return await auth.login(request.body, { address: request.ip })
    } catch (err) {
      if (err instanceof LoginThrottled) void reply.header('retry-after', String(err.retryAfterS))
      throw err
    }
  })

  app.post('/auth/refresh', {
    config: { auth: 'none' },
    schema: {
      tags,
      summary: 'Rotate a refresh token',
      description: 'Each refresh token works once. Presenting a used one revokes its whole family (401).',
      body: RefreshBody,
      response: responses({ 200: TokenPairSchema }),
    },
  }, async (request) => auth.refresh(request.body.refreshToken))

  app.post('/auth/logout', {
    config: { auth: 'none' },
    schema: { tags, summary: 'End the session of a refresh token', body: RefreshBody, response: responses({ 204: NoContent }) },
  }, async (request, reply) => {
    await auth.logout(request.body.refreshToken)
    return reply.code(204).send(null)
  })

  // OAuth2 clients send forms: only this route parses application/x-www-form-urlencoded.
  await app.register(async (scope) => {
    const oauth = scope.withTypeProvider<TypeBoxTypeProvider>()
    await oauth.register(formbody)
    oauth.post('/auth/token', {
      config: { auth: 'none' },
      schema: {
        tags,
        summary: 'OAuth2 client credentials grant',
        description: 'Form or JSON body; the client may instead authenticate with HTTP Basic (client_id:client_secret).',
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: ClientCredentialsBody,
        response: responses({ 200: ClientTokenSchema }),
      },
    }, async (request, reply) => {
      const body = request.body
      const basic = basicCredentials(request.headers.authorization)
      const id = body.client_id ?? basic?.id
      const secret = body.client_secret ?? basic?.secret
      if (!id || !secret) throw unauthorized('send client_id and client_secret')
      void reply.header('cache-control', 'no-store')
      return auth.clientCredentials(id, secret)
    })
  })

  app.get('/auth/me', {
    schema: { tags, summary: 'The caller', security: [{ bearer: [] }], response: responses({ 200: UserSchema }) },
  }, async (request) => auth.me(principalOf(request)))

  app.post('/users', {
    config: { roles: ['admin'] },
    schema: { tags, summary: 'Create a user of any role (admin)', security: [{ bearer: [] }], body: CreateUserBody, response: responses({ 201: UserSchema }) },
  }, async (request, reply) => reply.code(201).send(await auth.createUser(request.body)))

  app.post('/service-clients', {
    config: { roles: ['admin'] },
    schema: {
      tags,
      summary: 'Create an OAuth2 client for an integration (admin)',
      security: [{ bearer: [] }],
      body: CreateServiceClientBody,
      response: responses({ 201: ServiceClientCreated }),
    },
  }, async (request, reply) => {
    const { client, clientSecret } = await auth.createServiceClient(request.body.name)
    return reply.code(201).send({ clientId: client.clientId, clientSecret, name: client.name, createdAt: client.createdAt.toISOString() })
  })
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = header && /^Basic\s+(\S+)$/i.exec(header)
  if (!match) return undefined
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 1) return undefined
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) }
  } catch {
    return undefined // a malformed %-escape: no credentials (401), not a 500
  }
}
