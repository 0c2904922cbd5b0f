import { AjvCompiler } from '@fastify/ajv-compiler'
import type { Ajv } from '@fastify/ajv-compiler'
import type { FastifyServerOptions } from 'fastify'

type BuildValidator = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']

// Unknown properties are refused (400 naming them), not dropped: a PATCH of a field that
// cannot be patched must not answer 200 with nothing changed.
const AJV_OPTIONS = { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } as const

/** The keyword every numeric schema gets before it is compiled (see finiteNumbers). */
export const FINITE = 'x-finite'

/**
 * Ajv refuses NaN and ±Infinity as numbers, but only before coercion: `?limit=Infinity`
 * or `1e400` in a query string is turned into Infinity after that check, and Ajv then
 * skips `minimum`/`maximum` (they only look at finite numbers). So every number and
 * integer schema also gets this keyword, which looks at the value after coercion.
 */
function finiteNumbers(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: FINITE,
    // No `type`: Ajv runs typed keywords only on finite numbers, so this one would never fire.
    schemaType: 'boolean',
    errors: false,
    error: { message: 'must be a finite number' },
    validate: (_schema: boolean, data: unknown) => typeof data !== 'number' || Number.isFinite(data),
  })
}

/** Keys whose values are data, not subschemas: a default object is not walked. */
const NOT_SCHEMAS = new Set(['default', 'examples', 'const', 'enum'])

function isNumeric(type: unknown): boolean {
  const types = Array.isArray(type) ? type : [type]
  return types.includes('number') || types.includes('integer')
}

/** A copy of the schema with the finiteness keyword on every numeric (sub)schema. */
export function withFiniteNumbers<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((s) => withFiniteNumbers(s)) as T
  if (!schema || typeof schema !== 'object') return schema
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) out[key] = NOT_SCHEMAS.has(key) ? value : withFiniteNumbers(value)
  if (isNumeric(out.type)) out[FINITE] = true
  return out as T
}

/**
 * Query strings, path parameters and headers arrive as text, so their validator
 * coerces ("limit=20" is 20). A JSON body says what it means: there Ajv would turn
 * 0, "" and false into null for a nullable field, and a PATCH of weightGrams 0 would
 * clear the weight instead of being refused. So bodies are validated as sent.
 */
export function validatorsByPart(): BuildValidator {
  const pool = AjvCompiler()
  return (externalSchemas) => {
    const shared = withFiniteNumbers(externalSchemas)
    const options = { onCreate: finiteNumbers }
    const coercing = pool(shared, { ...options, customOptions: AJV_OPTIONS })
    const exact = pool(shared, { ...options, customOptions: { ...AJV_OPTIONS, coerceTypes: false } })
    return (route) => {
      const compile = route.httpPart === 'body' ? exact : coercing
      return compile({ ...route, schema: withFiniteNumbers(route.schema) })
    }
  }
}
