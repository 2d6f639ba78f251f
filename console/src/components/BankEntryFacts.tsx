import type { BankEntryFacts } from '../types.ts';

/** What a reviewer needs to judge a quarantined bank entry: the entry, how often it matched, and some of the uploads. */
export function BankEntryFactsView({ entry }: { entry: BankEntryFacts }) {
  return (
    <>
      <dl className="facts inline">
        <dt>Bank</dt>
        <dd>{entry.bank}</dd>
        <dt>Entry</dt>
        <dd>
          <code data-testid="entry-id">{entry.entry_id}</code> {entry.signal_type}
        </dd>
        <dt>Value</dt>
        <dd>
          <code>{entry.value.length > 80 ? `${entry.value.slice(0, 80)}…` : entry.value}</code>
        </dd>
        <dt>Source</dt>
        <dd>{entry.source ?? <span className="muted">–</span>}</dd>
        <dt>Disabled</dt>
        <dd>{entry.disabled_until === null ? 'no' : `${entry.disabled_until === 'infinity' ? 'until re-enabled' : `until ${entry.disabled_until}`} (${entry.disabled_reason ?? ''})`}</dd>
      </dl>
      <h3>Distinct uploads matched</h3>
      <table className="data compact" data-testid="uploads-by-hour">
        <thead>
          <tr>
            <th scope="col">Hour</th>
            <th scope="col" className="num">Uploads</th>
          </tr>
        </thead>
        <tbody>
          {entry.uploads_by_hour.map((row) => (
            <tr key={row.hour}>
              <td>{row.hour}</td>
              <td className="num">{row.uploads}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Some of the uploads</h3>
      {entry.sample_content_ids.length === 0 ? (
        <p className="muted">None kept.</p>
      ) : (
        <ul className="plain">
          {entry.sample_content_ids.map((id) => (
            <li key={id}>
              <code>{id}</code>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
