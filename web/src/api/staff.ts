import { api } from './api.js'
import type { LastLocation } from './types.js'

const enc = encodeURIComponent

export type AssignmentState = 'offered' | 'accepted' | 'declined' | 'completed' | 'cancelled'

export interface Assignment {
  id: string
  trackingNumber: string
  driverId: string
  state: AssignmentState
  assignedBy: string
  assignedAt: string
  acceptedAt?: string
  declinedAt?: string
  completedAt?: string
}

export interface Driver {
  id: string
  name: string
  email: string
  activeAssignments: number
  lastLocation?: LastLocation
  lastSeenAt?: string
}

export interface Proof {
  id: string
  kind: 'photo' | 'signature'
  contentType: string
  sizeBytes: number
  uploadedBy: string | null
  uploadedAt: string
  note?: string
  /** A presigned GET, valid 15 minutes. */
  url: string
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
