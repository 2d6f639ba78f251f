import { useCallback, useEffect, useState } from 'react';
import { ApiError, type ConsoleApi } from '../api.ts';
import { formatDateTime, humanize } from '../format.ts';
import type { NcmecReportSummary } from '../types.ts';

/** The quality items by name where humanize() would get them wrong. */
const ITEM_LABELS: Record<string, string> = { ip_addresses: 'IP addresses', files_viewed: 'Files viewed by a person' };

/**
 * CyberTipline reports, newest first: how complete each is and what it lacks. A report held
 * below the quality floor waits for a lead's confirmation, or goes out anyway at its hold limit.
 */
export function NcmecScreen({ api, announce }: { api: ConsoleApi; announce: (text: string, tone: 'info' | 'error') => void }) {
  const [reports, setReports] = useState<NcmecReportSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);

  const load = useCallback(async () => {
    try {
      setReports(await api.ncmecReports());
      setError(null);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) return;
      setError(caught instanceof Error ? caught.message : String(caught));
      setReports([]);
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const confirm = async (id: number) => {
    setBusy(id);
    try {
      const confirmed = await api.confirmNcmecReport(id);
      announce(`Report ${id} confirmed: ${humanize(confirmed.status)}`, 'info');
      await load();
    } catch (caught) {
      announce(caught instanceof Error ? caught.message : String(caught), 'error');
    } finally {
      setBusy(null);
    }
  };

  return (
    <main className="page" aria-labelledby="ncmec-title">
      <div className="page-head">
        <h1 id="ncmec-title">Reports to NCMEC</h1>
      </div>
      {error && (
        <p className="notice error" role="alert">
          {error}
        </p>
      )}
      {reports === null && <p className="muted">Loading…</p>}
      {reports !== null && reports.length === 0 && !error && <p className="muted">No reports.</p>}
      {reports !== null && reports.length > 0 && (
        <table className="data" data-testid="ncmec-table">
          <thead>
            <tr>
              <th scope="col" className="num">#</th>
              <th scope="col">Account</th>
              <th scope="col">Cases</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">Completeness</th>
              <th scope="col">Missing</th>
              <th scope="col">Files viewed</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {reports.map((report) => (
              <tr key={report.id} data-testid={`ncmec-report-${report.id}`}>
                <td className="num">{report.id}</td>
                <td>
                  <code>{report.account_id ?? '–'}</code>
                </td>
                <td>{report.case_ids.join(', ')}</td>
                <td>
                  {humanize(report.status)}
                  {report.needs_confirmation && <div className="muted small">sent unconfirmed at {formatDateTime(report.hold_until)}</div>}
                  {report.confirmed_by && <div className="muted small">confirmed by {report.confirmed_by}</div>}
                </td>
                <td className="num" data-testid="ncmec-score">
                  {report.quality.score ?? '–'}
                  <span className="muted small"> / 100 (floor {report.quality.floor})</span>
                </td>
                <td>
                  {report.quality.missing.length === 0 ? (
                    <span className="muted">–</span>
                  ) : (
                    <span>
                      {report.quality.missing.map((gap, index) => (
                        <span key={gap.item} title={gap.detail}>
                          {index > 0 && ', '}
                          {ITEM_LABELS[gap.item] ?? humanize(gap.item)}
                        </span>
                      ))}
                    </span>
                  )}
                </td>
                <td>
                  {report.files_viewed} of {report.files}
                </td>
                <td>
                  {report.needs_confirmation && (
                    <button type="button" disabled={busy !== null} onClick={() => void confirm(report.id)} data-testid={`ncmec-confirm-${report.id}`}>
                      Confirm and send
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
