import { api } from './api.js'
import type { CreatedDevice, Device, Page, Role, ServiceClientCreated, Stats, User } from './types.js'

/** Operations: devices, users, service clients and the stats dashboard. */
export const adminApi = api.injectEndpoints({
  endpoints: (build) => ({
    getDevices: build.query<Page<Device>, { cursor?: string }>({
      query: ({ cursor }) => ({ url: '/devices', params: { cursor, limit: 50 } }),
      providesTags: [{ type: 'Device', id: 'LIST' }],
    }),
    createDevice: build.mutation<CreatedDevice, { name: string; trackingNumber?: string }>({
      query: (body) => ({ url: '/devices', method: 'POST', body }),
      invalidatesTags: [{ type: 'Device', id: 'LIST' }],
    }),
    revokeDevice: build.mutation<void, string>({
      query: (id) => ({ url: `/devices/${encodeURIComponent(id)}`, method: 'DELETE' }),
      invalidatesTags: [{ type: 'Device', id: 'LIST' }],
    }),
    createUser: build.mutation<User, { email: string; password: string; name: string; role: Role }>({
      query: (body) => ({ url: '/users', method: 'POST', body }),
    }),
    createServiceClient: build.mutation<ServiceClientCreated, { name: string }>({
      query: (body) => ({ url: '/service-clients', method: 'POST', body }),
    }),
    getStats: build.query<Stats, void>({
      query: () => '/stats',
      providesTags: ['Stats'],
      keepUnusedDataFor: 5,
    }),
  }),
})

export const {
  useGetDevicesQuery,
  useCreateDeviceMutation,
  useRevokeDeviceMutation,
  useCreateUserMutation,
  useCreateServiceClientMutation,
  useGetStatsQuery,
} = adminApi
