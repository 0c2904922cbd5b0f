/**
 * The carrier slugs `POST /me/trackings` accepts: the ones the adapters map to a
 * provider's carrier (EasyPost's table in easypost.ts; AfterShip takes our slugs
 * as its own) and the sandbox's. Anything else is a typo we would otherwise ask
 * the provider about on every schedule, so it is refused at once (400).
 */
export const KNOWN_CARRIERS: ReadonlySet<string> = new Set([
  'ups',
  'usps',
  'fedex',
  'dhl',
  'dhl-express',
  'canadapost',
  'canada-post',
  'ontrac',
  'lasership',
  'easyparcel',
  // The sandbox plays any slug; this one names it in demos and tests.
  'sandbox',
])

/** Whether `slug` (trimmed, any case) is one we can track. */
export const isKnownCarrier = (slug: string): boolean => KNOWN_CARRIERS.has(slug.trim().toLowerCase())
