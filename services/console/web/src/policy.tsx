import { useEffect, useState } from 'preact/hooks';
import type { PolicyResponse } from '../../src/views.js';
import { getJson } from './api.js';
import { Failure } from './format.js';

/** The Cedar policy files in force, as written, with any problem that would keep the policy service from loading them. */
export function PolicyPage() {
  const [policy, setPolicy] = useState<PolicyResponse | undefined>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    getJson<PolicyResponse>('/api/policy').then(setPolicy, setError);
  }, []);

  return (
    <>
      <h1 tabIndex={-1}>Policy</h1>
      <p class="hint">The Cedar policies that decide every call. <code>@approval</code> gates a call behind people's approval; a <code>forbid</code> always wins.</p>
      <Failure error={error} />
      {!policy && !error && <p aria-busy="true">Loading…</p>}
      {policy && (
        <>
          <p>
            {policy.files.length} file{policy.files.length === 1 ? '' : 's'}, {policy.policies} polic{policy.policies === 1 ? 'y' : 'ies'}, digest <code>{policy.version}</code>
          </p>
          {policy.problems.length > 0 && (
            <div class="failure" role="alert">
              <p>
                <strong>These files have problems</strong>: the policy service refuses them and keeps serving the set it loaded before.
              </p>
              <ul>
                {policy.problems.map((problem, index) => (
                  <li key={index}>{problem}</li>
                ))}
              </ul>
            </div>
          )}
          <nav aria-label="Policy files">
            <ul>
              {policy.files.map((file, index) => (
                <li key={file.path}>
                  <a href={`#/policy`} onClick={(event) => {
                    event.preventDefault();
                    document.getElementById(`policy-file-${index}`)?.focus();
                  }}>
                    {file.path}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {policy.files.map((file, index) => (
            <section key={file.path} aria-labelledby={`policy-file-${index}-heading`}>
              <h2 id={`policy-file-${index}-heading`}>
                <code>{file.path}</code>
              </h2>
              <pre id={`policy-file-${index}`} tabIndex={0} aria-labelledby={`policy-file-${index}-heading`}>
                <code>{file.text}</code>
              </pre>
            </section>
          ))}
        </>
      )}
    </>
  );
}
