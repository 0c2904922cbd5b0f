import { createSlice, type PayloadAction } from '@reduxjs/toolkit'
import type { LinkStatus } from './socket.js'

/** The WebSocket link's state, for the connection indicator. */
export const linkSlice = createSlice({
  name: 'link',
  initialState: { state: 'stopped', attempt: 0 } as LinkStatus,
  reducers: {
    linkChanged: (_state, action: PayloadAction<LinkStatus>) => action.payload,
  },
})

export const { linkChanged } = linkSlice.actions
