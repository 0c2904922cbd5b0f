import { Type } from 'typebox'
import { DateTimeOut } from '../platform/http/schemas.js'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-policy.js'

export const Email = Type.String({ format: 'email', maxLength: 254 })
export const Password = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  description: 'At least 10 characters, not one character repeated, not one of the most common passwords.',
})
// At least one visible character: names are trimmed before they are stored.
export const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })
export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('operator'), Type.Literal('customer'), Type.Literal('driver')])

export const UserSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    name: Type.String(),
    role: Type.Union([RoleSchema, Type.Literal('service')]),
    createdAt: Type.Optional(DateTimeOut),
  },
  { $id: 'User' },
)

export const RegisterBody = Type.Object({ email: Email, password: Password, name: Name }, { additionalProperties: false })
export const LoginBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false })
export const RefreshBody = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 300 }) }, { additionalProperties: false })
export const CreateUserBody = Type.Object({ email: Email, password: Password, name: Name, role: RoleSchema }, { additionalProperties: false })
export const CreateServiceClientBody = Type.Object({ name: Name }, { additionalProperties: false })

export const TokenPairSchema = Type.Object({ accessToken: Type.String(), refreshToken: Type.String() })
export const AuthResultSchema = Type.Object({
  user: Type.Ref('User'),
  accessToken: Type.String(),
  refreshToken: Type.String(),
})

// The client may authenticate with HTTP Basic instead of client_id / client_secret.
// Unknown parameters (scope, audience, ...) are ignored, as RFC 6749 (3.2) asks.
export const ClientCredentialsBody = Type.Object({
  grant_type: Type.Literal('client_credentials'),
  client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
})
export const ClientTokenSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
})
export const ServiceClientCreated = Type.Object({
  clientId: Type.String(),
  clientSecret: Type.String({ description: 'Shown once; store it now.' }),
  name: Type.String(),
  createdAt: DateTimeOut,
})
