import Holidays from 'date-holidays'
import type { HolidayCalendar } from './frequency.js'

/**
 * Public holidays of one country (TRACKING_HOLIDAYS_COUNTRY, an ISO 3166 code
 * such as `US` or `DE-BY`), from date-holidays. Only `public` ones count: bank
 * and observance days do not stop carriers. Undefined for an unknown country.
 */
export function holidayCalendar(country: string | undefined): HolidayCalendar | undefined {
  if (!country?.trim()) return undefined
  const [c, state] = country.trim().toUpperCase().split('-')
  const hd = new Holidays()
  if (!c || !hd.getCountries()[c] || (state && !hd.getStates(c)?.[state])) return undefined
  hd.init(c, state ?? '', { types: ['public'] })
  return {
    isHoliday: (at: Date) => {
      const found = hd.isHoliday(at)
      return Array.isArray(found) && found.some((h) => h.type === 'public')
    },
  }
}
