import { type FormEvent, useState } from 'react';
import { humanize } from '../format.ts';
import type { CaseDetail, DecisionOption } from '../types.ts';

/** The policies meant for this kind of case first, then the general ones, then the rest. */
function forSubjectFirst(detail: CaseDetail) {
  const rank = (subjects: string[] | undefined) => (subjects?.includes(detail.subject.kind) ? 0 : !subjects || subjects.length === 0 ? 1 : 2);
  return [...detail.policies].sort((a, b) => rank(a.subjects) - rank(b.subjects));
}

export function DecisionPanel({
  detail,
  canDecide,
  blockedReason,
  busy,
  policy,
  note,
  onPolicy,
  onNote,
  onDecide,
  onRelease,
  onHelp,
  onClaim,
  onAssign,
}: {
  detail: CaseDetail;
  canDecide: boolean;
  blockedReason: string | null;
  busy: boolean;
  policy: string | null;
  note: string;
  onPolicy: (policy: string) => void;
  onNote: (note: string) => void;
  onDecide: (option: DecisionOption) => void;
  onRelease: () => void;
  onHelp: () => void;
  /** Set when the case can be taken: not decided, and open or (for leads) held by someone else. */
  onClaim: (() => void) | null;
  /** Set for leads and admins while the case is undecided. */
  onAssign: ((username: string) => void) | null;
}) {
  const [assignee, setAssignee] = useState('');
  const selectedPolicy = detail.policies.find((candidate) => candidate.id === policy);
  return (
    <section className="panel decision-panel" aria-labelledby="decision-title">
      <h2 id="decision-title">Decision</h2>
      {blockedReason && <p className="notice">{blockedReason}</p>}
      {onClaim && (
        <div className="button-row">
          <button type="button" className="primary" onClick={onClaim} disabled={busy} data-testid="claim-button">
            {detail.status === 'claimed' ? 'Take over this case' : 'Claim this case'}
          </button>
        </div>
      )}
      {canDecide && (
        <>
          <div className="options" role="group" aria-label="Decision options">
            {detail.decision_options.map((option) => (
              <button
                key={option.verdict}
                type="button"
                className={`option option-${option.verdict}`}
                data-testid={`decide-${option.verdict}`}
                onClick={() => onDecide(option)}
                disabled={busy}
                aria-keyshortcuts={option.key}
                title={option.actions.length ? `Actions: ${option.actions.map(humanize).join(', ')}` : 'No enforcement action'}
              >
                <kbd>{option.key}</kbd>
                <span className="option-label">{option.label}</span>
                {option.actions.length > 0 && <span className="option-actions">{option.actions.map(humanize).join(' · ')}</span>}
              </button>
            ))}
          </div>
          {detail.policies.length > 0 && (
            <>
              <label htmlFor="decision-policy">Policy</label>
              <select id="decision-policy" value={policy ?? ''} onChange={(event) => onPolicy(event.target.value)} disabled={busy} data-testid="decision-policy">
                {policy === null && (
                  <option value="" disabled>
                    Choose a policy…
                  </option>
                )}
                {forSubjectFirst(detail).map((candidate) => (
                  <option key={candidate.id} value={candidate.id}>
                    {candidate.title}
                  </option>
                ))}
              </select>
              {selectedPolicy && <p className="muted small">Legal ground: {selectedPolicy.legal_ground}</p>}
            </>
          )}
          <label htmlFor="decision-note">
            Note <span className="muted">(optional)</span>
          </label>
          <textarea id="decision-note" rows={3} value={note} onChange={(event) => onNote(event.target.value)} disabled={busy} maxLength={2000} />
          <div className="button-row">
            <button type="button" onClick={onRelease} disabled={busy} data-testid="release-button">
              Release case
            </button>
            <button type="button" className="link-button" onClick={onHelp}>
              Shortcuts <kbd>?</kbd>
            </button>
          </div>
        </>
      )}
      {onAssign && (
        <form
          className="assign"
          onSubmit={(event: FormEvent) => {
            event.preventDefault();
            if (assignee.trim()) onAssign(assignee.trim());
          }}
        >
          <label htmlFor="assign-username">Assign to reviewer</label>
          <div className="inline-field">
            <input id="assign-username" value={assignee} onChange={(event) => setAssignee(event.target.value)} placeholder="username" autoComplete="off" disabled={busy} />
            <button type="submit" disabled={busy || !assignee.trim()}>
              Assign
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
