import { applyEverywhere, bufferUntilLoaded, type CacheState } from '../live/cache.js'
import type { SessionState } from '../store/session.js'
import { api } from './api.js'
import type { ApiError } from './base-query.js'
import type { ClientEnv } from './client-env.js'
import { packagesApi } from './packages.js'
import { isStatus, isTerminal } from './statuses.js'
import type { Assignment, DriverPoint, PackageEvent, Proof, ProofContentType } from './types.js'

// The driver's side of the contract ("Drivers and assignments", "Proof of delivery").

/** What the driver view shows: offers waiting for an answer and deliveries under way. */
export interface DriverBoard {
  offered: Assignment[]
  accepted: Assignment[]
}

export interface UploadGrant {
  uploadId: string
  url: string
  fields: Record<string, string>
  expiresAt: string
  maxBytes: number
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

/**
 * Offers, accepted deliveries, proof uploads and the driver's own positions; the user
 * channel keeps them current. The proofs list is staff.ts' getProofs, shared with the staff pages.
 */
export const driverApi = api.injectEndpoints({
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
        const refetch = () => dispatch(api.util.invalidateTags([BOARD]))
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

    createProofUpload: build.mutation<UploadGrant, { trackingNumber: string; contentType: ProofContentType; sizeBytes: number }>({
      query: ({ trackingNumber, ...body }) => ({ url: `/packages/${enc(trackingNumber)}/proofs/uploads`, method: 'POST', body }),
    }),

    attachProof: build.mutation<Proof, { trackingNumber: string; uploadId: string; kind: 'photo' | 'signature' }>({
      query: ({ trackingNumber, ...body }) => ({ url: `/packages/${enc(trackingNumber)}/proofs`, method: 'POST', body }),
      invalidatesTags: (_r, _e, { trackingNumber }) => [{ type: 'Proof', id: trackingNumber }],
    }),
  }),
})

export const { useGetDriverBoardQuery, useAnswerOfferMutation, usePostMyLocationsMutation, useCreateProofUploadMutation, useAttachProofMutation } = driverApi
