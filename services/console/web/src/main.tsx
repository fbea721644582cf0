import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { MeResponse } from '../../src/views.js';
import { ApiError, getJson, postJson, signInHref, rememberSignIn } from './api.js';
import { ApprovalsPage } from './approvals.js';
import { personName } from './format.js';
import { PolicyPage } from './policy.js';
import { RecordingPage } from './recording.js';
import { RecordingsPage } from './recordings.js';
import { SessionsPage } from './sessions.js';

type Route = { page: 'approvals' | 'sessions' | 'recordings' | 'policy' } | { page: 'recording'; sessionId: string };

const pages = [
  { page: 'approvals', href: '#/approvals', label: 'Approvals' },
  { page: 'sessions', href: '#/sessions', label: 'Active sessions' },
  { page: 'recordings', href: '#/recordings', label: 'Recorded sessions' },
  { page: 'policy', href: '#/policy', label: 'Policy' },
] as const;

/** Every route is a #fragment: the server serves one document, and links work without it knowing the routes. */
function readRoute(): Route {
  const [, page, id] = location.hash.split('/');
  if (page === 'recordings' && id) return { page: 'recording', sessionId: decodeURIComponent(id) };
  if (page === 'sessions' || page === 'recordings' || page === 'policy') return { page };
  return { page: 'approvals' };
}

function App() {
  const [me, setMe] = useState<MeResponse | 'signed-out' | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const [route, setRoute] = useState<Route>(readRoute);
  const [announcement, setAnnouncement] = useState('');
  const main = useRef<HTMLElement>(null);
  const firstRoute = useRef(true);

  const signedOut = () => setMe('signed-out');
  useEffect(() => {
    getJson<MeResponse>('/api/me').then(
      (answer) => {
        rememberSignIn(answer, signedOut);
        setMe(answer);
      },
      (error: unknown) => {
        if (error instanceof ApiError && error.code === 'MissingAuthentication') setMe('signed-out');
        else setFailure(error instanceof Error ? error.message : String(error));
      },
    );
    const follow = () => setRoute(readRoute());
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);

  // A new page moves focus to its heading, so keyboard and screen reader users start there (not on the old link).
  useEffect(() => {
    if (firstRoute.current) {
      firstRoute.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus();
    document.title = `${main.current?.querySelector('h1')?.textContent ?? 'Airlock'} · Airlock console`;
  }, [route, me]);

  const announce = (text: string) => setAnnouncement(text);
  const signOut = async () => {
    await postJson('/auth/logout').catch(() => undefined);
    setMe('signed-out');
  };

  const current = route.page === 'recording' ? 'recordings' : route.page;
  return (
    <>
      <a class="skip" href="#content" onClick={(event) => {
        event.preventDefault();
        main.current?.focus();
      }}>
        Skip to content
      </a>
      <header class="top">
        <p class="brand">Airlock console</p>
        {me && me !== 'signed-out' && (
          <>
            <nav aria-label="Console">
              <ul>
                {pages.map((page) => (
                  <li key={page.page}>
                    <a href={page.href} aria-current={current === page.page ? 'page' : undefined}>
                      {page.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            <div class="who">
              <span>
                {personName(me.person)}
                {me.person.admin ? ' · admin' : ''}
              </span>
              <button type="button" onClick={() => void signOut()}>
                Sign out
              </button>
            </div>
          </>
        )}
      </header>
      <main id="content" ref={main} tabIndex={-1} class="page">
        {failure && (
          <p class="failure" role="alert">
            {failure}
          </p>
        )}
        {me === undefined && !failure && <p aria-busy="true">Loading…</p>}
        {me === 'signed-out' && (
          <>
            <h1 tabIndex={-1}>Sign in</h1>
            <p>Sign in with your identity provider to decide approvals, look after sessions and read recordings.</p>
            <p>
              <a class="button" href={signInHref()}>
                Sign in
              </a>
            </p>
          </>
        )}
        {me && me !== 'signed-out' && (
          <>
            {route.page === 'approvals' && <ApprovalsPage announce={announce} signedOut={signedOut} />}
            {route.page === 'sessions' && <SessionsPage announce={announce} />}
            {route.page === 'recordings' && <RecordingsPage />}
            {route.page === 'recording' && <RecordingPage sessionId={route.sessionId} />}
            {route.page === 'policy' && <PolicyPage />}
          </>
        )}
      </main>
      <div class="visually-hidden" aria-live="polite" role="status">
        {announcement}
      </div>
    </>
  );
}

render(<App />, document.getElementById('app')!);
