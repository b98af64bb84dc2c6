// The console's shell: sign-in, then navigation that shows only what the account's roles allow
// (the APIs refuse the rest anyway), hash routes (#/queue, #/entry/ID …) so the server serves one
// page and the back button works, and a notice when the session ends.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Session, WARNING_SECONDS, onSessionEnded, onSessionEnding, roles, session, signOut } from './api.js';
import { AdminPage, ADMIN_PAGES, Deliveries } from './pages/admin.js';
import { Dashboard } from './pages/dashboard.js';
import { EntryPage } from './pages/entry.js';
import { Publications } from './pages/publications.js';
import { QueuePage } from './pages/queue.js';
import { RulesPage } from './pages/rules.js';
import { SignIn } from './pages/signin.js';
import { PageTitle } from './ui.js';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

interface NavItem {
  href: string;
  label: string;
}

function navFor(s: Session): NavItem[] {
  const me = s.me;
  const items: NavItem[] = [];
  if (roles.decides(me)) items.push({ href: '#/dashboard', label: 'Dashboard' });
  if (roles.decides(me) || roles.followsQueue(me)) items.push({ href: '#/queue', label: 'Review queue' });
  if (roles.decides(me)) items.push({ href: '#/publications', label: 'Publications' }, { href: '#/rules', label: 'Desk rules' });
  for (const p of ADMIN_PAGES) {
    const sees = p.audience === 'everyone' || (p.audience === 'curator' ? roles.decides(me) : roles.isAdmin(me));
    if (sees) items.push({ href: `#/admin/${p.key}`, label: p.title });
  }
  return items;
}

function Route({ hash, s }: { hash: string; s: Session }) {
  const [path] = hash.replace(/^#/, '').split('?');
  const parts = (path ?? '').split('/').filter(Boolean);
  const allowed = navFor(s);
  // Own API keys are not a reason to land anywhere but the welcome page.
  const home = allowed.find((i) => i.href !== '#/admin/api-keys')?.href;
  if (parts.length === 0) {
    if (home) {
      location.replace(home);
      return null;
    }
    return <Welcome s={s} />;
  }
  const section = parts[0] === 'entry' ? 'queue' : parts[0];
  if (!allowed.some((i) => i.href.startsWith(`#/${section}`))) return <Welcome s={s} />;
  switch (parts[0]) {
    case 'dashboard':
      return <Dashboard />;
    case 'queue':
      return <QueuePage me={s.me} />;
    case 'entry':
      return <EntryPage id={decodeURIComponent(parts[1] ?? '')} me={s.me} />;
    case 'publications':
      return <Publications />;
    case 'rules':
      return <RulesPage />;
    case 'admin': {
      const page = ADMIN_PAGES.find((p) => p.key === parts[1]);
      if (page?.key === 'subscriptions' && parts[2] && allowed.some((i) => i.href === '#/admin/subscriptions')) return <Deliveries id={decodeURIComponent(parts[2])} key={parts[2]} />;
      // an account's API keys, for admins (#/admin/accounts/NAME/api-keys)
      const keys = ADMIN_PAGES.find((p) => p.key === 'api-keys')!;
      if (page?.key === 'accounts' && parts[2] && parts[3] === 'api-keys' && allowed.some((i) => i.href === '#/admin/accounts')) return <AdminPage page={keys} me={s.me} owner={decodeURIComponent(parts[2])} key={hash} />;
      if (page && allowed.some((i) => i.href === `#/admin/${page.key}`)) return <AdminPage page={page} me={s.me} key={page.key} />;
      return <Welcome s={s} />;
    }
    default:
      return <Welcome s={s} />;
  }
}

function Welcome({ s }: { s: Session }) {
  return (
    <>
      <PageTitle>Signed in as {s.me.name}</PageTitle>
      <p>
        Roles: {s.me.roles.join(', ') || 'none'}
        {s.me.organisation ? `; organisation ${s.me.organisation}` : ''}.
      </p>
      {!roles.decides(s.me) && !roles.followsQueue(s.me) && <p>The console has nothing for this account beyond its own API keys: its data is read with a TAXII client.</p>}
    </>
  );
}

function App() {
  const [s, setS] = useState<Session | undefined>(session());
  const [notice, setNotice] = useState<string>();
  const [ending, setEnding] = useState(false);
  const hash = useHash();
  useEffect(() => {
    onSessionEnding(() => setEnding(true));
    onSessionEnded((reason) => {
      setS(undefined);
      setEnding(false);
      setNotice(reason === 'expired' ? 'Your session has expired. Sign in again to continue.' : 'You have signed out.');
    });
  }, []);
  if (!s)
    return (
      <main id="main">
        <SignIn
          notice={notice}
          onSignedIn={(x) => {
            setNotice(undefined);
            setS(x);
          }}
        />
      </main>
    );
  const nav = navFor(s);
  const current = hash.replace(/\?.*$/, '');
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Meridian console</span>
        <nav aria-label="Console">
          <ul>
            {nav.map((i) => (
              <li key={i.href}>
                <a href={i.href} aria-current={current === i.href || current.startsWith(`${i.href}/`) ? 'page' : undefined}>
                  {i.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          {s.me.name} ({s.me.roles.join(', ')})
        </span>
        <button type="button" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      {/* always in the page, so screen readers announce the warning when its text appears */}
      <p class={ending ? 'notice ending' : 'visually-hidden'} role="status">
        {ending ? `Your session ends in ${WARNING_SECONDS} seconds: finish what is open, then sign in again.` : ''}
      </p>
      <main id="main" tabIndex={-1}>
        <Route hash={hash} s={s} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
