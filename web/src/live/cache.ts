import type { ThunkDispatch, UnknownAction } from '@reduxjs/toolkit'
import type { packagesApi } from '../api/packages.js'
import type { PackageEvent } from '../api/types.js'
import { applyToEventLog, applyToLocations, applyToPackage, applyToPackagePage, applyToPublicView, applyToTrackings } from './apply.js'

type PackagesApi = typeof packagesApi
export type CacheState = Parameters<PackagesApi['util']['selectCachedArgsForQuery']>[0]
export type CacheDispatch = ThunkDispatch<CacheState, unknown, UnknownAction>

/**
 * Applies one live event to every cached entry it concerns, whichever channel
 * brought it: the tracking list, every cached page of the packages table, the
 * package, its timeline, its route and its public view. Pages that cannot show the
 * event in place are returned so their owner can refetch them (throttled).
 */
export function applyEverywhere(api: PackagesApi, dispatch: CacheDispatch, state: CacheState, ev: PackageEvent): Array<Parameters<PackagesApi['endpoints']['getPackages']['initiate']>[0]> {
  const { util } = api
  const tn = ev.trackingNumber
  const cached = (name: Parameters<typeof util.selectCachedArgsForQuery>[1]) => util.selectCachedArgsForQuery(state, name) as unknown[]

  if (cached('getTrackings').length > 0) dispatch(util.updateQueryData('getTrackings', undefined, (d) => applyToTrackings(d, ev)))
  const stale: Array<Parameters<PackagesApi['endpoints']['getPackages']['initiate']>[0]> = []
  for (const arg of util.selectCachedArgsForQuery(state, 'getPackages')) {
    dispatch(
      util.updateQueryData('getPackages', arg, (d) => {
        if (applyToPackagePage(d, ev, arg)) stale.push(arg)
      }),
    )
  }
  if (cached('getPackage').includes(tn)) {
    if (ev.type === 'package.deleted') dispatch(util.invalidateTags([{ type: 'Package', id: tn }]))
    else dispatch(util.updateQueryData('getPackage', tn, (d) => (d.view === 'public' ? applyToPublicView(d, ev) : applyToPackage(d, ev))))
  }
  if (cached('getPackageEvents').includes(tn)) dispatch(util.updateQueryData('getPackageEvents', tn, (d) => applyToEventLog(d, ev)))
  if (cached('getPackageLocations').includes(tn)) dispatch(util.updateQueryData('getPackageLocations', tn, (d) => applyToLocations(d, ev)))
  if (cached('getPublicTracking').includes(tn)) dispatch(util.updateQueryData('getPublicTracking', tn, (d) => applyToPublicView(d, ev)))
  return stale
}

/** Holds events until the entry's first data has loaded, then applies them in order. */
export function bufferUntilLoaded(apply: (ev: PackageEvent) => void, loaded: Promise<unknown>): (ev: PackageEvent) => void {
  let queue: PackageEvent[] | undefined = []
  loaded.then(
    () => {
      const held = queue ?? []
      queue = undefined
      for (const ev of held) apply(ev)
    },
    () => {
      queue = undefined
    },
  )
  return (ev) => {
    if (queue) queue.push(ev)
    else apply(ev)
  }
}
