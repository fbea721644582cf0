import type { ComponentChildren } from 'preact';
import type { PrincipalView } from '../../src/views.js';

/** A point in time people read in their own locale, with the exact UTC time for machines and tooltips. */
export function Time({ at }: { at: string | null }) {
  if (!at) return <span>—</span>;
  const date = new Date(at);
  return (
    <time dateTime={at} title={at}>
      {date.toLocaleString()}
    </time>
  );
}

/** "in 4 min" / "2 min ago", for deadlines. */
export function relative(at: string, now = Date.now()): string {
  const minutes = Math.round((new Date(at).getTime() - now) / 60_000);
  if (minutes === 0) return 'now';
  return minutes > 0 ? `in ${minutes} min` : `${-minutes} min ago`;
}

export function personName(person: { subject: string; name?: string | null } | PrincipalView | null): string {
  if (!person) return 'unknown';
  return person.name ? `${person.name} (${person.subject})` : person.subject;
}

/** Shown when a request failed: the message, announced to screen readers. */
export function Failure({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p class="failure" role="alert">
      {message}
    </p>
  );
}

export function Badge({ tone, children }: { tone: 'good' | 'bad' | 'wait' | 'plain'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

/** A call's canonical parameters (secrets already masked by the edge), as rows of a <dl>; nothing when there are none. */
export function Parameters({ parameters }: { parameters: Record<string, string> }) {
  const entries = Object.entries(parameters);
  if (entries.length === 0) return null;
  return (
    <>
      <dt>Parameters</dt>
      <dd>
        {entries.map(([name, value]) => (
          <div key={name}>
            <code>{name}</code> = <code>{value}</code>
          </div>
        ))}
      </dd>
    </>
  );
}
