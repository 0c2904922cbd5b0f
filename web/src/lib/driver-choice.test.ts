import t from 'tap'
import { distanceKm, formatDistance, rankDrivers } from './driver-choice.js'

const berlin = { lat: 52.52, lng: 13.405 }
const munich = { lat: 48.137, lng: 11.575 }
const potsdam = { lat: 52.39, lng: 13.065 }

t.test('distances are great-circle kilometres', async (t) => {
  t.ok(Math.abs(distanceKm(berlin, munich) - 504) < 3, 'Berlin to Munich is about 504 km')
  t.equal(distanceKm(berlin, berlin), 0)
  t.equal(formatDistance(distanceKm(berlin, munich)), '504 km')
  t.equal(formatDistance(distanceKm(berlin, potsdam)), '27.2 km')
  t.equal(formatDistance(0.4), '400 m')
  t.equal(formatDistance(undefined), 'no position')
})

t.test('drivers rank by distance and load; those without a position come last', async (t) => {
  const drivers = [
    { name: 'Far', activeAssignments: 0, lastLocation: munich },
    { name: 'Unknown idle', activeAssignments: 0 },
    { name: 'Near busy', activeAssignments: 3, lastLocation: berlin },
    { name: 'Near', activeAssignments: 0, lastLocation: potsdam },
    { name: 'Unknown busy', activeAssignments: 2 },
  ]
  const ranked = rankDrivers(drivers, berlin)
  t.same(ranked.map((c) => c.driver.name), ['Near busy', 'Near', 'Far', 'Unknown idle', 'Unknown busy'])
  t.equal(ranked[3]!.km, undefined)
  t.same(rankDrivers(drivers, undefined).map((c) => c.driver.name).slice(0, 3), ['Far', 'Near', 'Unknown idle'], 'no package position: by load, then name')
})
