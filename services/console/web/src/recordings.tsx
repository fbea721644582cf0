import { useEffect, useState } from 'preact/hooks';
import type { RecordingsResponse, RecordingSummary } from '../../src/views.js';
import { getJson } from './api.js';
import { Badge, Failure, Time } from './format.js';

interface Search {
  subject: string;
  role: string;
  operation: string;
  decision: string;
  since: string;
  until: string;
}

const blank: Search = { subject: '', role: '', operation: '', decision: '', since: '', until: '' };
const decisionTone = { allow: 'good', deny: 'bad', approval: 'wait', none: 'plain' } as const;

/** Recorded sessions from the recorder's index, searched by person, role, operation, decision and time. */
export function RecordingsPage() {
  const [search, setSearch] = useState<Search>(blank);
  const [recordings, setRecordings] = useState<RecordingSummary[] | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const run = async (query: Search) => {
    setBusy(true);
    try {
      const parameters = new URLSearchParams();
      for (const name of ['subject', 'role', 'operation', 'decision'] as const) if (query[name].trim()) parameters.set(name, query[name].trim());
      // datetime-local inputs are local times without a zone; the API takes instants.
      if (query.since) parameters.set('since', new Date(query.since).toISOString());
      if (query.until) parameters.set('until', new Date(query.until).toISOString());
      setRecordings((await getJson<RecordingsResponse>(`/api/recordings?${parameters}`)).recordings);
      setError(undefined);
    } catch (thrown) {
      setError(thrown);
      setRecordings([]);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => void run(blank), []);

  const field = (name: keyof Search) => ({
    id: `search-${name}`,
    value: search[name],
    onInput: (event: { currentTarget: HTMLInputElement | HTMLSelectElement }) => setSearch({ ...search, [name]: event.currentTarget.value }),
  });

  return (
    <>
      <h1 tabIndex={-1}>Recorded sessions</h1>
      <p class="hint">Every call Airlock decided, as the recorder stored it. Without a time range: the last 24 hours.</p>
      <form
        class="search"
        role="search"
        aria-label="Search recorded sessions"
        onSubmit={(event) => {
          event.preventDefault();
          void run(search);
        }}
      >
        <div>
          <label for="search-subject">Person or workload</label>
          <input type="text" {...field('subject')} />
        </div>
        <div>
          <label for="search-role">Role</label>
          <input type="text" {...field('role')} />
        </div>
        <div>
          <label for="search-operation">Operation</label>
          <input type="text" placeholder="s3:DeleteBucket or s3:*" {...field('operation')} />
        </div>
        <div>
          <label for="search-decision">Decision</label>
          <select {...field('decision')}>
            <option value="">any</option>
            <option value="allow">allowed</option>
            <option value="deny">denied</option>
            <option value="approval">needed approval</option>
            <option value="none">refused before policy</option>
          </select>
        </div>
        <div>
          <label for="search-since">From</label>
          <input type="datetime-local" {...field('since')} />
        </div>
        <div>
          <label for="search-until">Until</label>
          <input type="datetime-local" {...field('until')} />
        </div>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Search
          </button>
        </div>
      </form>
      <Failure error={error} />
      <div aria-live="polite" aria-busy={busy}>
        {recordings === undefined ? (
          <p>Loading…</p>
        ) : recordings.length === 0 ? (
          error ? null : <p>No recorded session matches.</p>
        ) : (
          <table>
            <caption>
              {recordings.length} recorded session{recordings.length === 1 ? '' : 's'}
            </caption>
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col">Who</th>
                <th scope="col">Role</th>
                <th scope="col">From</th>
                <th scope="col">Until</th>
                <th scope="col">Calls</th>
                <th scope="col">Operations</th>
                <th scope="col">Decisions</th>
              </tr>
            </thead>
            <tbody>
              {recordings.map((recording) => (
                <tr key={recording.sessionId}>
                  <td>
                    <a href={`#/recordings/${encodeURIComponent(recording.sessionId)}`}>
                      <code>{recording.sessionId}</code>
                    </a>
                  </td>
                  <td>{recording.name ? `${recording.name} (${recording.subject})` : recording.subject || '—'}</td>
                  <td>
                    <code>{recording.roleArn || '—'}</code>
                  </td>
                  <td>
                    <Time at={recording.firstAt} />
                  </td>
                  <td>
                    <Time at={recording.lastAt} />
                  </td>
                  <td>{recording.calls}</td>
                  <td class="operations">{recording.operations.join(', ') || '—'}</td>
                  <td>
                    {recording.decisions.map((decision) => (
                      <Badge key={decision} tone={decisionTone[decision as keyof typeof decisionTone] ?? 'plain'}>
                        {decision}
                      </Badge>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
