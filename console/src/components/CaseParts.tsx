import { formatDateTime, formatDuration, formatScore, humanize } from '../format.ts';
import type { AccountFacts, CaseDetail, ContentFacts, Decision } from '../types.ts';

export function CaseBadges({ detail }: { detail: CaseDetail }) {
  return (
    <ul className="badges" aria-label="Case markers">
      <li className={`badge severity-${detail.severity}`} data-testid="severity">
        Severity: {detail.severity}
      </li>
      <li className="badge">Priority {detail.priority}</li>
      {detail.trusted_flagger && <li className="badge trusted">Trusted flagger</li>}
      {detail.minor_involved && (
        <li className="badge minor" data-testid="minor-involved">
          Minor involved
        </li>
      )}
      <li className={`badge status-${detail.status}`}>{humanize(detail.status)}</li>
    </ul>
  );
}

export function DueTime({ dueAt, decided, now }: { dueAt: string | null; decided: boolean; now: number }) {
  if (!dueAt) return <p className="due muted">No due time</p>;
  const seconds = (new Date(dueAt).getTime() - now) / 1000;
  if (decided) return <p className="due muted">Was due {formatDateTime(dueAt)}</p>;
  if (seconds < 0) {
    return (
      <p className="due overdue" data-testid="due" data-overdue="true">
        Overdue by {formatDuration(-seconds)} <span className="muted">(due {formatDateTime(dueAt)})</span>
      </p>
    );
  }
  return (
    <p className="due" data-testid="due" data-overdue="false">
      Due in {formatDuration(seconds)} <span className="muted">({formatDateTime(dueAt)})</span>
    </p>
  );
}

export function Reasons({ detail }: { detail: CaseDetail }) {
  return (
    <section className="panel" aria-labelledby="reasons-title">
      <h2 id="reasons-title">Why this case</h2>
      {detail.reasons.length === 0 ? (
        <p className="muted">No reasons recorded.</p>
      ) : (
        <ul className="reasons" data-testid="reasons">
          {detail.reasons.map((reason, index) => (
            <li key={index}>
              <code className="rule">{reason.rule}</code>
              <span>{reason.summary}</span>
              <span className="muted small">
                {formatDateTime(reason.at)}
                {reason.event_seq !== null && ` · event ${reason.event_seq}`}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ContentFactsView({ content }: { content: ContentFacts }) {
  return (
    <>
      <dl className="facts inline">
        <dt>Content</dt>
        <dd>
          <code data-testid="content-id">{content.content_id}</code>
        </dd>
        <dt>Uploaded by</dt>
        <dd>
          <code>{content.account_id}</code>
        </dd>
        <dt>Type</dt>
        <dd>{content.content_type}</dd>
      </dl>
      <h3>Bank matches</h3>
      {content.matches.length === 0 ? (
        <p className="muted">No bank matches.</p>
      ) : (
        <table className="data compact" data-testid="matches">
          <thead>
            <tr>
              <th scope="col">Bank</th>
              <th scope="col">Signal</th>
              <th scope="col" className="num">Distance</th>
              <th scope="col">Tags</th>
              <th scope="col">From exchange</th>
            </tr>
          </thead>
          <tbody>
            {content.matches.map((match, index) => (
              <tr key={index}>
                <td>{match.bank}</td>
                <td>{match.signal_type}</td>
                <td className="num">{match.distance === 0 ? 'exact' : match.distance}</td>
                <td>{match.tags.length ? match.tags.map((tag) => <span key={tag} className="tag">{tag}</span>) : <span className="muted">–</span>}</td>
                <td data-testid="provenance">
                  {match.provenance?.length ? (
                    match.provenance.map((from) => (
                      <div key={`${from.exchange}:${from.item_key}`}>
                        {from.exchange}
                        {from.member ? ` · member ${from.member}` : ''} · <code>{from.item_key}</code>
                        {from.tags.map((tag) => <span key={tag} className="tag">{tag}</span>)}
                      </div>
                    ))
                  ) : (
                    <span className="muted">–</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Signals</h3>
      {content.signals.length === 0 ? (
        <p className="muted">No signals.</p>
      ) : (
        <table className="data compact" data-testid="signals">
          <thead>
            <tr>
              <th scope="col">Signal</th>
              <th scope="col">Value</th>
              <th scope="col" className="num">Quality</th>
            </tr>
          </thead>
          <tbody>
            {content.signals.map((signal, index) => (
              <tr key={index}>
                <td>{signal.signal_type}</td>
                <td>
                  <code className="hash">{signal.value}</code>
                </td>
                <td className="num">{signal.quality ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function AccountFactsView({ account }: { account: AccountFacts }) {
  return (
    <>
      <dl className="facts" data-testid="account-facts">
        <dt>Account</dt>
        <dd>
          <code>{account.account_id}</code>
        </dd>
        <dt>Label</dt>
        <dd>{account.label ?? '–'}</dd>
        <dt>Minor</dt>
        <dd>{account.minor === null ? 'unknown' : account.minor ? <strong className="minor-text">yes</strong> : 'no'}</dd>
        <dt>Risk</dt>
        <dd>{formatScore(account.risk)}</dd>
        <dt>Network</dt>
        <dd>{account.network_id === null ? '–' : `#${account.network_id}`}</dd>
        <dt>Created</dt>
        <dd>{formatDateTime(account.created_at)}</dd>
        <dt>Evasion of</dt>
        <dd>{account.evasion_of ? <strong>{account.evasion_of}</strong> : '–'}</dd>
      </dl>
      <h3>Label history</h3>
      {account.labels.length === 0 ? (
        <p className="muted">No labels.</p>
      ) : (
        <table className="data compact">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Label</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {account.labels.map((label, index) => (
              <tr key={index}>
                <td className="nowrap">{formatDateTime(label.at)}</td>
                <td>{label.label}</td>
                <td>{label.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function DecisionHistory({ decisions }: { decisions: Decision[] }) {
  return (
    <section className="panel" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      {decisions.length === 0 ? (
        <p className="muted">No decisions yet.</p>
      ) : (
        <ol className="history" data-testid="history">
          {decisions.map((decision) => (
            <li key={decision.id}>
              <DecisionSummary decision={decision} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function DecisionSummary({ decision }: { decision: Decision }) {
  return (
    <div className="decision">
      <div>
        <strong>{humanize(decision.verdict)}</strong> by {decision.automated ? `rule ${decision.rule ?? ''}` : decision.decided_by}
        <span className="muted small"> · {formatDateTime(decision.decided_at)}</span>
      </div>
      {decision.policy && (
        <div className="small">
          Policy <code>{decision.policy}</code>
          {decision.legal_ground && <span className="muted"> · {decision.legal_ground}</span>}
        </div>
      )}
      {decision.note && <blockquote className="small">{decision.note}</blockquote>}
      {decision.actions.length > 0 && (
        <ul className="actions">
          {decision.actions.map((action) => (
            <li key={action.id}>
              {humanize(action.type)} <code>{action.target.id}</code> <span className={`action-status status-${action.status}`}>{action.status}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
