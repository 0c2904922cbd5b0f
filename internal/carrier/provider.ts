import type { Config } from '../config/config.js'
import { AfterShipProvider } from './aftership.js'
import { EasyPostProvider } from './easypost.js'
import type { FrequencySettings } from './frequency.js'
import { holidayCalendar } from './holidays.js'
import type { CarrierProvider } from './ports.js'
import type { SyncSettings } from './sync-service.js'

/** Where `CARRIER_PROVIDER=sandbox` looks without CARRIER_API_URL: `npm run carrier-sandbox`'s default address. */
export const SANDBOX_DEFAULT_URL = 'http://127.0.0.1:4010'

/** The provider CARRIER_PROVIDER names, or undefined when unset (external trackings then wait). */
export function providerFromConfig(config: Config): CarrierProvider | undefined {
  const common = {
    timeoutMs: config.TRACKING_API_TIMEOUT,
    breakerThreshold: config.BREAKER_FAILURES,
    halfOpenAfterMs: config.BREAKER_HALF_OPEN_AFTER_MS,
    maxConcurrent: config.TRACKING_MAX_CONCURRENT,
    webhookSecret: config.CARRIER_WEBHOOK_SECRET ?? '',
  }
  switch (config.CARRIER_PROVIDER) {
    case 'aftership':
      return new AfterShipProvider({ ...common, apiKey: config.CARRIER_API_KEY!, baseUrl: config.CARRIER_API_URL })
    case 'easypost':
      return new EasyPostProvider({ ...common, apiKey: config.CARRIER_API_KEY!, baseUrl: config.CARRIER_API_URL })
    case 'sandbox':
      // The sandbox speaks AfterShip's API; any key passes unless it was started with one.
      return new AfterShipProvider({ ...common, name: 'sandbox', apiKey: config.CARRIER_API_KEY ?? 'sandbox', baseUrl: config.CARRIER_API_URL ?? SANDBOX_DEFAULT_URL })
    default:
      return undefined
  }
}

/** The schedule and budget knobs from TRACKING_*. */
export function syncSettingsFromConfig(config: Config): SyncSettings {
  const frequency: FrequencySettings = {
    preShipmentMin: config.TRACKING_PRE_SHIPMENT_FREQ,
    inTransitMin: config.TRACKING_IN_TRANSIT_FREQ,
    outForDeliveryMin: config.TRACKING_OUT_FOR_DELIVERY_FREQ,
    exceptionMin: config.TRACKING_EXCEPTION_FREQ,
    pushedMin: config.TRACKING_PUSHED_FREQ,
  }
  return {
    frequency,
    holidays: holidayCalendar(config.TRACKING_HOLIDAYS_COUNTRY),
    dailyBudget: config.TRACKING_DAILY_BUDGET,
    reservePct: config.TRACKING_RATE_BUFFER,
    maxConcurrent: config.TRACKING_MAX_CONCURRENT,
    batchSize: config.TRACKING_JOB_BATCH_SIZE,
    leaseS: config.TRACKING_LEASE_S,
    maxFailures: config.TRACKING_MAX_FAILURES,
  }
}
