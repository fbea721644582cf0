import { useEffect, useRef, useState } from 'preact/hooks';
import type { LiveSession, LiveSessionsResponse, RevokeResponse } from '../../src/views.js';
import { getJson, postJson } from './api.js';
import { Badge, Failure, personName, Time } from './format.js';

interface PersonSessions {
  key: string;
  subject: string;
  issuer: string;
  name: string | null;
  sessions: LiveSession[];
}

/** Live sessions (not yet expired), grouped by the person or workload they belong to, with revoke. */
export function SessionsPage({ announce }: { announce: (text: string) => void }) {
  const [sessions, setSessions] = useState<LiveSession[] | undefined>();
  const [error, setError] = useState<unknown>();
  const [filter, setFilter] = useState('');

  const load = async () => {
    try {
      setSessions((await getJson<LiveSessionsResponse>('/api/sessions')).sessions);
      setError(undefined);
    } catch (thrown) {
      setError(thrown);
    }
  };
  useEffect(() => void load(), []);

  const revoke = async (path: string, body: unknown, what: string) => {
    try {
      const { revoked } = await postJson<RevokeResponse>(path, body);
      announce(`Revoked ${what}: ${revoked.length} session${revoked.length === 1 ? '' : 's'}.`);
      await load();
    } catch (thrown) {
      setError(thrown);
    }
  };

  const needle = filter.trim().toLowerCase();
  const people = groupByPerson(sessions ?? []).filter(
    (person) => !needle || [person.subject, person.name ?? '', ...person.sessions.map((session) => session.roleArn)].some((text) => text.toLowerCase().includes(needle)),
  );

  return (
    <>
      <h1 tabIndex={-1}>Active sessions</h1>
      <p class="hint">Sessions Airlock has issued that have not expired, by person. A revoked session is refused on every edge within seconds.</p>
      <div class="toolbar">
        <label for="session-filter">Filter by person or role</label>
        <input id="session-filter" type="search" value={filter} onInput={(event) => setFilter(event.currentTarget.value)} />
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <Failure error={error} />
      {sessions === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : people.length === 0 ? (
        <p>No live sessions{needle ? ' match' : ''}.</p>
      ) : (
        people.map((person) => (
          <section key={person.key} class="person" aria-labelledby={`person-${person.key}`}>
            <h2 id={`person-${person.key}`}>{personName(person)}</h2>
            <p class="hint">Issuer {person.issuer}</p>
            <ConfirmButton
              label={`Revoke all sessions of ${person.name ?? person.subject}`}
              onConfirm={() => revoke('/api/sessions/revoke', { subject: person.subject, issuer: person.issuer }, `every session of ${person.subject}`)}
            />
            <table>
              <caption class="visually-hidden">Sessions of {personName(person)}</caption>
              <thead>
                <tr>
                  <th scope="col">Session</th>
                  <th scope="col">Role</th>
                  <th scope="col">Issued</th>
                  <th scope="col">Expires</th>
                  <th scope="col">State</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {person.sessions.map((session) => (
                  <tr key={session.sessionId}>
                    <td>
                      <code>{session.sessionId}</code>
                      {session.roleSessionName && <div class="hint">{session.roleSessionName}</div>}
                    </td>
                    <td>
                      <code>{session.roleArn}</code>
                    </td>
                    <td>
                      <Time at={session.issuedAt} />
                    </td>
                    <td>
                      <Time at={session.expiresAt} />
                    </td>
                    <td>{session.revoked ? <Badge tone="bad">revoked</Badge> : <Badge tone="good">active</Badge>}</td>
                    <td>
                      {!session.revoked && (
                        <ConfirmButton
                          label={`Revoke session ${session.sessionId}`}
                          short="Revoke"
                          onConfirm={() => revoke(`/api/sessions/${encodeURIComponent(session.sessionId)}/revoke`, {}, `session ${session.sessionId}`)}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))
      )}
    </>
  );
}

function groupByPerson(sessions: LiveSession[]): PersonSessions[] {
  const people = new Map<string, PersonSessions>();
  for (const session of sessions) {
    const key = `${session.issuer}#${session.subject}`;
    const person = people.get(key) ?? { key: String(people.size + 1), subject: session.subject, issuer: session.issuer, name: session.name, sessions: [] };
    person.sessions.push(session);
    people.set(key, person);
  }
  return [...people.values()];
}

/** A destructive action in two steps: the button, then "Confirm" (focused) or "Cancel" (focus returns to the button). */
function ConfirmButton({ label, short, onConfirm }: { label: string; short?: string; onConfirm: () => Promise<void> }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  const start = useRef<HTMLButtonElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else (asking ? confirm : start).current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" class="deny" ref={start} aria-label={short ? label : undefined} onClick={() => setAsking(true)}>
        {short ?? label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={label}>
      <button
        type="button"
        class="deny"
        ref={confirm}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          await onConfirm();
          setBusy(false);
          setAsking(false);
        }}
      >
        Confirm: {(short ?? label).toLowerCase()}
      </button>
      <button type="button" disabled={busy} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
