import { Suspense, lazy } from 'preact/compat'
import { useEffect, useRef } from 'preact/hooks'
import type { ComponentChildren } from 'preact'
import type { Role } from './api/types.js'
import { Loading } from './components/bits.js'
import { LiveIndicator } from './components/live-indicator.js'
import { NotificationBell } from './components/notification-bell.js'
import { useAppDispatch, useSession } from './hooks.js'
import { match, navigate, useLocation } from './lib/router.js'
import { Home, NotFound } from './pages/home.js'
import { MyPackages } from './pages/my-packages.js'
import { PackageDetail } from './pages/package-detail.js'
import { PlaceOrder } from './pages/place-order.js'
import { PublicTrack } from './pages/public-track.js'
import { SignIn } from './pages/sign-in.js'
import { signOut } from './store/store.js'

// Operations pages load on demand: customers never download them.
const AdminPackages = lazy(() => import('./pages/admin/packages.js'))
const Devices = lazy(() => import('./pages/admin/devices.js'))
const Users = lazy(() => import('./pages/admin/users.js'))
const StatsPage = lazy(() => import('./pages/admin/stats.js'))
const CarrierSync = lazy(() => import('./pages/admin/carrier-sync.js'))
const DriverHome = lazy(() => import('./pages/driver.js'))

const STAFF: Role[] = ['admin', 'operator']

interface Resolved {
  title: string
  page: ComponentChildren
  /** Roles allowed; undefined: anyone, [] : any signed-in user. */
  roles?: Role[]
}

function resolve(path: string, role: Role | undefined): Resolved {
  let m: Record<string, string> | undefined
  if (path === '/signin') return { title: 'Sign in', page: <SignIn mode="signin" /> }
  if (path === '/signup') return { title: 'Create account', page: <SignIn mode="signup" /> }
  if ((m = match('/track/:tn', path))) return { title: `Tracking ${m.tn}`, page: <PublicTrack tn={m.tn!.toUpperCase()} /> }
  if ((m = match('/packages/:tn', path))) return { title: `Package ${m.tn}`, page: <PackageDetail tn={m.tn!.toUpperCase()} />, roles: [] }
  if (path === '/') {
    if (!role) return { title: 'Track a package', page: <Home /> }
    if (STAFF.includes(role)) return { title: 'Packages', page: <AdminPackages /> }
    if (role === 'driver') return { title: 'My deliveries', page: <DriverHome /> }
    return { title: 'My packages', page: <MyPackages /> }
  }
  if (path === '/orders/new') return { title: 'Place an order', page: <PlaceOrder />, roles: ['customer'] }
  if (path === '/admin/packages') return { title: 'Packages', page: <AdminPackages />, roles: ['admin', 'operator', 'driver'] }
  if (path === '/admin/devices') return { title: 'Devices', page: <Devices />, roles: STAFF }
  if (path === '/admin/users') return { title: 'Users', page: <Users />, roles: ['admin'] }
  if (path === '/admin/stats') return { title: 'Operations', page: <StatsPage />, roles: STAFF }
  if (path === '/admin/carrier-sync') return { title: 'Carrier sync', page: <CarrierSync />, roles: STAFF }
  return { title: 'Not found', page: <NotFound /> }
}

const NAV: Record<Role | 'guest', Array<[string, string]>> = {
  guest: [['/', 'Track a package']],
  customer: [['/', 'My packages'], ['/orders/new', 'Place an order']],
  driver: [['/', 'Deliveries'], ['/admin/packages', 'Assigned packages']],
  operator: [['/admin/packages', 'Packages'], ['/admin/devices', 'Devices'], ['/admin/stats', 'Operations'], ['/admin/carrier-sync', 'Carrier sync']],
  admin: [['/admin/packages', 'Packages'], ['/admin/devices', 'Devices'], ['/admin/users', 'Users'], ['/admin/stats', 'Operations'], ['/admin/carrier-sync', 'Carrier sync']],
}

export function App() {
  const { path, query } = useLocation()
  const session = useSession()
  const role = session.user?.role
  const main = useRef<HTMLElement>(null)
  const first = useRef(true)
  const route = resolve(path, role)

  // Signed in on the sign-in page: go where the visitor was headed.
  useEffect(() => {
    if (session.user && (path === '/signin' || path === '/signup')) {
      const next = query.get('next')
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true })
    }
  }, [session.user, path])

  useEffect(() => {
    document.title = `${route.title} · DeliverTrack`
    // After an in-app navigation, start reading (and tabbing) at the new page.
    if (first.current) first.current = false
    else main.current?.focus({ preventScroll: true })
  }, [path])

  let page = route.page
  if (route.roles && !role) page = <SignInFirst />
  else if (route.roles && route.roles.length > 0 && role && !route.roles.includes(role)) page = <Forbidden />

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Header path={path} role={role} />
      <main id="main" ref={main} tabIndex={-1}>
        <Suspense fallback={<Loading />}>{page}</Suspense>
      </main>
    </>
  )
}

function Header({ path, role }: { path: string; role: Role | undefined }) {
  const dispatch = useAppDispatch()
  const user = useSession().user
  const items = NAV[role ?? 'guest']
  const active = (href: string) => (href === '/' ? path === '/' : path.startsWith(href))
  return (
    <header class="topbar">
      <a class="brand" href="/">
        <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
          <rect width="32" height="32" rx="7" fill="currentColor" opacity="0.18" />
          <path d="M8 12l8-4 8 4v9l-8 4-8-4zM8 12l8 4 8-4M16 16v9" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" />
        </svg>
        <span>DeliverTrack</span>
      </a>
      <nav aria-label="Main" class="nav">
        {items.map(([href, label]) => (
          <a key={href} href={href} aria-current={active(href) ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      <div class="topbar-end">
        <LiveIndicator />
        {user ? (
          <>
            <NotificationBell />
            <span class="who" title={user.email}>
              {user.name} <span class="role">{user.role}</span>
            </span>
            <button type="button" class="button ghost small on-dark" onClick={() => void dispatch(signOut()).then(() => navigate('/'))}>
              Sign out
            </button>
          </>
        ) : (
          path !== '/signin' && (
            <a class="button small on-dark" href="/signin">
              Sign in
            </a>
          )
        )}
      </div>
    </header>
  )
}

function SignInFirst() {
  return <SignIn mode="signin" />
}

function Forbidden() {
  return (
    <section class="card">
      <h1>Not available</h1>
      <p>Your account cannot open this page. <a href="/">Go to the start page</a>.</p>
    </section>
  )
}
