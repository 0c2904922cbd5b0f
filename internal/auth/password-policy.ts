import { readFileSync } from 'node:fs'

export const PASSWORD_MIN_LENGTH = 10
export const PASSWORD_MAX_LENGTH = 200

// Read once at start-up; the build copies the list beside the compiled module.
const COMMON = new Set(
  readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((line) => line.trim().toLowerCase())
    .filter((line) => line !== '' && !line.startsWith('#')),
)

/**
 * Why a new password is refused, or undefined when it is acceptable: 10..200
 * characters (code points, as the route schemas count them), not one character
 * repeated, not in common-passwords.txt (case-insensitively).
 */
export function passwordProblem(password: string): string | undefined {
  const chars = [...password]
  if (chars.length < PASSWORD_MIN_LENGTH) return `must have at least ${PASSWORD_MIN_LENGTH} characters`
  if (chars.length > PASSWORD_MAX_LENGTH) return `must have at most ${PASSWORD_MAX_LENGTH} characters`
  if (chars.every((c) => c === chars[0])) return 'must not be one character repeated'
  if (COMMON.has(password.toLowerCase())) return 'is one of the most common passwords; choose another'
  return undefined
}
