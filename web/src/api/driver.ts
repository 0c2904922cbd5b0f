import { applyEverywhere, bufferUntilLoaded, type CacheState } from '../live/cache.js'
import type { SessionState } from '../store/session.js'
import { api } from './api.js'
import type { ApiError } from './base-query.js'
import type { ClientEnv } from './client-env.js'
import { packagesApi } from './packages.js'
import { isStatus, isTerminal } from './statuses.js'
import type { PackageEvent } from './types.js'

// The driver's side of the contract ("Drivers and assignments", "Proof of delivery").

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
  cancelledAt?: string
}

/** What the driver view shows: offers waiting for an answer and deliveries under way. */
export interface DriverBoard {
  offered: Assignment[]
  accepted: Assignment[]
}

export interface DriverPoint {
  lat: number
  lng: number
  recordedAt: string
  accuracyM?: number
  speedMps?: number
  headingDeg?: number
}

export type ProofContentType = 'image/jpeg' | 'image/png' | 'image/webp'

export interface UploadGrant {
  uploadId: string
  url: string
  fields: Record<string, string>
  expiresAt: string
  maxBytes: number
}

export interface Proof {
  id: string
  kind: 'photo' | 'signature'
  contentType: ProofContentType
  sizeBytes: number
  note?: string
  uploadedBy: string | null
  uploadedAt: string
  url: string
}

const enc = encodeURIComponent
const BOARD = { type: 'Assignment' as const, id: 'BOARD' }

/** Events after which the driver's offers or deliveries are not what they were. */
function changesBoard(ev: PackageEvent): boolean {
  const type = ev.type as string
  if (type === 'package.assigned' || type.startsWith('package.assignment_')) return true
  // A final status completes or cancels the assignment in the same transaction.
  return type === 'package.status_changed' && isStatus(ev.data.status) && isTerminal(ev.data.status)
}

/** Offers, accepted deliveries, proofs and the driver's own positions; the user channel keeps them current. */
// Tag types of their own, added here rather than in api.ts: only this area uses them.
const tagged = api.enhanceEndpoints({ addTagTypes: ['Assignment', 'Proof'] })

export const driverApi = tagged.injectEndpoints({
  endpoints: (build) => ({
    getDriverBoard: build.query<DriverBoard, void>({
      // One entry for both lists, so the user channel is applied to the cache once.
      async queryFn(_arg, _api, _extra, baseQuery) {
        const [offered, accepted] = await Promise.all(['offered', 'accepted'].map((state) => baseQuery({ url: '/me/assignments', params: { state } })))
        const failed = offered!.error ?? accepted!.error
        if (failed) return { error: failed as ApiError }
        return { data: { offered: (offered!.data as { items: Assignment[] }).items, accepted: (accepted!.data as { items: Assignment[] }).items } }
      },
      providesTags: [BOARD],
      async onCacheEntryAdded(_arg, { dispatch, getState, extra, cacheDataLoaded, cacheEntryRemoved }) {
        const userId = (getState() as unknown as { session: SessionState }).session.user?.id
        if (!userId) return
        const refetch = () => dispatch(tagged.util.invalidateTags([BOARD]))
        const apply = bufferUntilLoaded((ev) => {
          applyEverywhere(packagesApi, dispatch, getState() as unknown as CacheState, ev)
          if (changesBoard(ev)) refetch()
        }, cacheDataLoaded)
        const off = (extra as ClientEnv).live.subscribe(`user:${userId}`, {
          onEvent: apply,
          // The user channel cannot replay what a broken link missed: fetch the lists once.
          onSubscribed: ({ resumed }) => {
            if (resumed) refetch()
          },
          onRevoked: refetch,
        })
        await cacheEntryRemoved
        off()
      },
    }),

    answerOffer: build.mutation<Assignment, { trackingNumber: string; answer: 'accept' | 'decline' }>({
      query: ({ trackingNumber, answer }) => ({ url: `/packages/${enc(trackingNumber)}/assignment/${answer}`, method: 'POST' }),
      invalidatesTags: [BOARD],
    }),

    postMyLocations: build.mutation<{ accepted: number; duplicates: number }, DriverPoint[]>({
      query: (points) => ({ url: '/me/locations', method: 'POST', body: { points } }),
    }),

    // Named apart from the staff pages' getProofs: an area owns its endpoint names.
    getDriverProofs: build.query<{ items: Proof[] }, string>({
      query: (tn) => `/packages/${enc(tn)}/proofs`,
      providesTags: (_r, _e, tn) => [{ type: 'Proof', id: tn }],
    }),

    createProofUpload: build.mutation<UploadGrant, { trackingNumber: string; contentType: ProofContentType; sizeBytes: number }>({
      query: ({ trackingNumber, ...body }) => ({ url: `/packages/${enc(trackingNumber)}/proofs/uploads`, method: 'POST', body }),
    }),

    attachProof: build.mutation<Proof, { trackingNumber: string; uploadId: string; kind: 'photo' | 'signature' }>({
      query: ({ trackingNumber, ...body }) => ({ url: `/packages/${enc(trackingNumber)}/proofs`, method: 'POST', body }),
      invalidatesTags: (_r, _e, { trackingNumber }) => [{ type: 'Proof', id: trackingNumber }],
    }),
  }),
})

export const { useGetDriverBoardQuery, useAnswerOfferMutation, usePostMyLocationsMutation, useGetDriverProofsQuery, useCreateProofUploadMutation, useAttachProofMutation } = driverApi
