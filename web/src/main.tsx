import { render } from 'preact'
import { Provider } from 'react-redux'
import { browserRefreshLock } from './api/client-env.js'
import { App } from './app.js'
import { interceptLinks } from './lib/router.js'
import type { SocketLike } from './live/socket.js'
import { SESSION_STORAGE_KEY, adopted, browserSessionStorage, emptySession } from './store/session.js'
import { makeStore } from './store/store.js'
import './styles.css'

const storage = browserSessionStorage(window.localStorage)
const store = makeStore({
  baseUrl: '/api/v1',
  fetchFn: (input, init) => fetch(input, init),
  storage,
  wsUrl: () => `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/api/v1/ws`,
  connect: (url) => new WebSocket(url) as unknown as SocketLike,
  withRefreshLock: browserRefreshLock,
})
store.env.live.start()

// Back online: reconnect now rather than at the end of the backoff.
window.addEventListener('online', () => store.env.live.reconnectNow())
// Another tab signed in or out, or rotated the tokens.
window.addEventListener('storage', (ev) => {
  if (ev.key === SESSION_STORAGE_KEY || ev.key === null) store.dispatch(adopted(storage.load() ?? emptySession))
})
interceptLinks(document.body)

render(
  <Provider store={store}>
    <App />
  </Provider>,
  document.getElementById('app')!,
)
