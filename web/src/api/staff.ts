import { api } from './api.js'
import type { Assignment, LastLocation, Proof } from './types.js'

const enc = encodeURIComponent

export interface Driver {
  id: string
  name: string
  email: string
  activeAssignments: number
  lastLocation?: LastLocation
  lastSeenAt?: string
  /** On shift (PUT /me/shift): the dispatch service offers new packages only to these. */
  onShift: boolean
}

export interface OrdersDay {
  day: string
  created: number
  delivered: number
  failedAttempts: number
  exceptions: number
  onTimeRate: number | null
}

export interface DriverFigures {
  driverId: string
  name: string | null
  delivered: number
  medianAcceptToDeliveredS: number | null
  onTimeRate: number | null
}

export interface DayRange {
  from: string
  to: string
}

/** Staff tools of issue 18: drivers and assignments, proofs of delivery, the charts. */
export const staffApi = api.injectEndpoints({
  endpoints: (build) => ({
    getDrivers: build.query<{ items: Driver[] }, void>({
      query: () => '/drivers',
      providesTags: [{ type: 'Driver', id: 'LIST' }],
      // Loads and positions change all the time: the picker asks again each time it opens.
      keepUnusedDataFor: 0,
    }),
    getAssignments: build.query<{ items: Assignment[] }, string>({
      query: (tn) => `/packages/${enc(tn)}/assignments`,
      providesTags: (_r, _e, tn) => [{ type: 'Assignment', id: tn }],
    }),
    assignDriver: build.mutation<Assignment, { trackingNumber: string; driverId: string; replaceVersion?: number }>({
      query: ({ trackingNumber, driverId, replaceVersion }) => ({
        url: `/packages/${enc(trackingNumber)}/assignment`,
        method: 'POST',
        body: replaceVersion === undefined ? { driverId } : { driverId, replace: true },
        // Replace only the assignment the user saw: a package that moved on answers 412.
        headers: replaceVersion === undefined ? {} : { 'if-match': String(replaceVersion) },
      }),
      invalidatesTags: (_r, _e, { trackingNumber }) => [
        { type: 'Assignment', id: trackingNumber },
        { type: 'Driver', id: 'LIST' },
      ],
    }),
    // The driver's proof step reads this list too; its attachProof invalidates the same tag.
    getProofs: build.query<{ items: Proof[] }, string>({
      query: (tn) => `/packages/${enc(tn)}/proofs`,
      providesTags: (_r, _e, tn) => [{ type: 'Proof', id: tn }],
      // The links expire after 15 minutes: never show older ones.
      keepUnusedDataFor: 30,
    }),
    getOrdersByDay: build.query<{ items: OrdersDay[] }, DayRange>({
      query: (range) => ({ url: '/metrics/orders-by-day', params: range }),
      providesTags: ['Metrics'],
    }),
    getDriverFigures: build.query<{ items: DriverFigures[] }, DayRange>({
      query: (range) => ({ url: '/metrics/drivers', params: range }),
      providesTags: ['Metrics'],
    }),
  }),
})

export const { useGetDriversQuery, useGetAssignmentsQuery, useAssignDriverMutation, useGetProofsQuery, useGetOrdersByDayQuery, useGetDriverFiguresQuery } = staffApi
