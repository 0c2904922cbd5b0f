import { Type, type TSchema } from 'typebox'

/** `$ref` to the shared error body, for every route's 4xx/5xx responses. */
export const ErrorRef = Type.Unsafe<{ statusCode: number; error: string; code: string; message: string }>({ $ref: 'Error#' })

/** A route's responses plus the shared error body for every failure. */
export function responses<T extends Record<number, TSchema>>(ok: T) {
  return { ...ok, '4xx': ErrorRef, '5xx': ErrorRef } as T & { '4xx': typeof ErrorRef; '5xx': typeof ErrorRef }
}

export const NoContent = Type.Null({ description: 'No content' })

export const DateTime = Type.String({ format: 'date-time' })
/** A response timestamp: a Date (or ISO string) serialized as RFC 3339. */
export const DateTimeOut = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' })

