import { useCallback, useEffect, useState } from 'react';
import { ApiError, type ConsoleApi } from '../api.ts';
import { formatAge, formatDuration } from '../format.ts';
import { useNow } from '../hooks.ts';
import type { Queue } from '../types.ts';

export function QueuesScreen({ api, onStart, busyQueue }: { api: ConsoleApi; onStart: (queue: string) => void; busyQueue: string | null }) {
  const [queues, setQueues] = useState<Queue[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const now = useNow(30_000);

  const load = useCallback(async () => {
    try {
      setQueues(await api.queues());
      setError(null);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) return;
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  }, [api]);

  useEffect(() => {
    void load();
    // Counts move as colleagues work; a slow refresh keeps them honest without hammering the server.
    const timer = window.setInterval(() => void load(), 30_000);
    return () => window.clearInterval(timer);
  }, [load]);

  return (
    <main className="page" aria-labelledby="queues-title">
      <div className="page-head">
        <h1 id="queues-title">Queues</h1>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {error && (
        <p className="notice error" role="alert">
          {error}
        </p>
      )}
      {queues === null && !error && <p className="muted">Loading queues…</p>}
      {queues !== null && queues.length === 0 && <p className="muted">No queues are assigned to your teams.</p>}
      {queues !== null && queues.length > 0 && (
        <table className="data queues" data-testid="queue-table">
          <thead>
            <tr>
              <th scope="col">Queue</th>
              <th scope="col" className="num">Open</th>
              <th scope="col" className="num">Claimed</th>
              <th scope="col" className="num">Overdue</th>
              <th scope="col" className="num">SLA</th>
              <th scope="col" className="num">Oldest open</th>
              <th scope="col" className="num">Decided (24 h)</th>
              <th scope="col" className="num">Median decision</th>
              <th scope="col">
                <span className="sr-only">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {queues.map((queue) => {
              const oldestSeconds = queue.oldest_open_at ? (now - new Date(queue.oldest_open_at).getTime()) / 1000 : 0;
              const oldestLate = queue.oldest_open_at !== null && oldestSeconds > queue.sla_minutes * 60;
              return (
                <tr key={queue.name} data-testid="queue-row" data-queue={queue.name} data-open={queue.open} className={queue.overdue > 0 ? 'overdue-row' : undefined}>
                  <th scope="row">
                    <div className="queue-name">{queue.name}</div>
                    {queue.description && <div className="muted small">{queue.description}</div>}
                    {queue.team && <div className="tag">team {queue.team}</div>}
                  </th>
                  <td className="num">{queue.open}</td>
                  <td className="num">{queue.claimed}</td>
                  <td className={queue.overdue > 0 ? 'num overdue' : 'num'}>{queue.overdue > 0 ? <strong>{queue.overdue} overdue</strong> : 0}</td>
                  <td className="num">{formatDuration(queue.sla_minutes * 60)}</td>
                  <td className={oldestLate ? 'num overdue' : 'num'}>{formatAge(queue.oldest_open_at, now)}</td>
                  <td className="num">{queue.decided_24h}</td>
                  <td className="num">{queue.median_decision_seconds_24h === null ? '–' : formatDuration(queue.median_decision_seconds_24h)}</td>
                  <td>
                    <button type="button" className="primary" onClick={() => onStart(queue.name)} disabled={busyQueue !== null} aria-label={`Start reviewing ${queue.name}`}>
                      {busyQueue === queue.name ? 'Opening…' : 'Start reviewing'}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </main>
  );
}
