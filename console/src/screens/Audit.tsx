import { useCallback, useEffect, useState } from 'react';
import { ApiError, type ConsoleApi } from '../api.ts';
import { formatDateTime } from '../format.ts';
import type { AuditEntry } from '../types.ts';

const PAGE_SIZE = 50;

/** The audit log, newest first, paged backwards by sequence number. */
export function AuditScreen({ api }: { api: ConsoleApi }) {
  // The cursors of the pages already seen, so "Newer" can step back without the server's help.
  const [cursors, setCursors] = useState<(number | null)[]>([null]);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const before = cursors[cursors.length - 1];

  const load = useCallback(async () => {
    setEntries(null);
    try {
      setEntries(await api.audit(before, PAGE_SIZE));
      setError(null);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) return;
      setError(caught instanceof ApiError && caught.status === 403 ? 'The audit log is for leads and admins.' : caught instanceof Error ? caught.message : String(caught));
      setEntries([]);
    }
  }, [api, before]);

  useEffect(() => {
    void load();
  }, [load]);

  const last = entries && entries.length > 0 ? entries[entries.length - 1] : null;
  return (
    <main className="page" aria-labelledby="audit-title">
      <div className="page-head">
        <h1 id="audit-title">Audit log</h1>
        <div className="button-row">
          <button type="button" onClick={() => setCursors([null])} disabled={cursors.length === 1}>
            Newest
          </button>
          <button type="button" onClick={() => setCursors((all) => all.slice(0, -1))} disabled={cursors.length === 1}>
            Newer
          </button>
          <button type="button" onClick={() => last && setCursors((all) => [...all, last.seq])} disabled={!last || (entries?.length ?? 0) < PAGE_SIZE}>
            Older
          </button>
        </div>
      </div>
      {error && (
        <p className="notice error" role="alert">
          {error}
        </p>
      )}
      {entries === null && <p className="muted">Loading…</p>}
      {entries !== null && entries.length === 0 && !error && <p className="muted">No entries.</p>}
      {entries !== null && entries.length > 0 && (
        <table className="data audit" data-testid="audit-table">
          <thead>
            <tr>
              <th scope="col" className="num">#</th>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Subject</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.seq}>
                <td className="num">{entry.seq}</td>
                <td className="nowrap">{formatDateTime(entry.at)}</td>
                <td>{entry.actor}</td>
                <td>
                  <code>{entry.action}</code>
                </td>
                <td>
                  <code>{entry.subject}</code>
                </td>
                <td className="detail">
                  <DetailList detail={entry.detail} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

function DetailList({ detail }: { detail: Record<string, unknown> }) {
  const pairs = Object.entries(detail ?? {});
  if (pairs.length === 0) return <span className="muted">–</span>;
  return (
    <span>
      {pairs.map(([key, value], index) => (
        <span key={key}>
          {index > 0 && ', '}
          <span className="muted">{key}</span> {typeof value === 'string' ? value : JSON.stringify(value)}
        </span>
      ))}
    </span>
  );
}
