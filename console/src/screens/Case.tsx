import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type ConsoleApi } from '../api.ts';
import { AccountFactsView, CaseBadges, ContentFactsView, DecisionHistory, DueTime, Reasons } from '../components/CaseParts.tsx';
import { BankEntryFactsView } from '../components/BankEntryFacts.tsx';
import { DecisionPanel } from '../components/DecisionPanel.tsx';
import { MediaViewer, REVEAL_SECONDS } from '../components/MediaViewer.tsx';
import { NetworkGraph } from '../components/NetworkGraph.tsx';
import { ShortcutHelp } from '../components/ShortcutHelp.tsx';
import { formatWhen, humanize } from '../format.ts';
import { useNow } from '../hooks.ts';
import type { CaseDetail, Decision, DecisionOption, Reviewer } from '../types.ts';

export interface CaseScreenProps {
  api: ConsoleApi;
  caseId: number;
  /** The case as /next returned it, so it need not be fetched again. */
  initial: CaseDetail | null;
  me: Reviewer;
  onExposure: (exposureToday: number) => void;
  onDecided: (decision: Decision, detail: CaseDetail) => void;
  onReleased: (detail: CaseDetail) => void;
  announce: (text: string, tone: 'info' | 'error') => void;
}

function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) return !['button', 'submit', 'reset', 'checkbox', 'radio'].includes(target.type);
  return false;
}

/**
 * The policy a case starts on: the first one meant for its subject, else the first meant for any
 * subject, else none, so a reviewer picks one rather than citing a policy for another kind of case.
 */
function defaultPolicy(detail: CaseDetail): string | null {
  const forSubject = detail.policies.find((candidate) => candidate.subjects?.includes(detail.subject.kind));
  const general = detail.policies.find((candidate) => !candidate.subjects || candidate.subjects.length === 0);
  return (forSubject ?? general)?.id ?? null;
}

/** One case: evidence on the left, the decision on the right. Mounted afresh for every case. */
export function CaseScreen({ api, caseId, initial, me, onExposure, onDecided, onReleased, announce }: CaseScreenProps) {
  const [detail, setDetail] = useState<CaseDetail | null>(initial);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [revealed, setRevealed] = useState(false);
  const [revealing, setRevealing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [helpOpen, setHelpOpen] = useState(false);
  const [policy, setPolicy] = useState<string | null>(initial ? defaultPolicy(initial) : null);
  const [note, setNote] = useState('');
  const [result, setResult] = useState<Decision | null>(null);
  const now = useNow(15_000);
  const busyRef = useRef(false);

  useEffect(() => {
    if (initial) return;
    let cancelled = false;
    api.getCase(caseId).then(
      (loaded) => {
        if (cancelled) return;
        setDetail(loaded);
        setPolicy(defaultPolicy(loaded));
      },
      (error: unknown) => {
        if (!cancelled) setLoadError(error instanceof ApiError ? error : new ApiError(0, String(error), ''));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, caseId, initial]);

  const conceal = useCallback(() => setRevealed(false), []);

  // While revealed, anything that takes the reviewer's eyes elsewhere blurs the media again.
  useEffect(() => {
    if (!revealed) return;
    const timer = window.setTimeout(conceal, REVEAL_SECONDS * 1000);
    const onVisibility = () => {
      if (document.visibilityState !== 'visible') conceal();
    };
    window.addEventListener('blur', conceal);
    window.addEventListener('pagehide', conceal);
    window.addEventListener('hashchange', conceal);
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      window.clearTimeout(timer);
      window.removeEventListener('blur', conceal);
      window.removeEventListener('pagehide', conceal);
      window.removeEventListener('hashchange', conceal);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [revealed, conceal]);

  const isLead = me.role === 'lead' || me.role === 'admin';
  const mine = detail !== null && detail.status === 'claimed' && detail.claimed_by === me.username;
  // The server shows media to the case's holder and to leads only; nobody else is offered a reveal.
  const hasMedia = Boolean(detail?.content?.media_available) && (mine || isLead);
  const blockedReason =
    detail === null || mine
      ? null
      : detail.status === 'decided'
        ? 'This case is decided.'
        : detail.status === 'claimed'
          ? `This case is claimed by ${detail.claimed_by ?? 'someone else'}.`
          : 'Nobody holds this case. Claim it to decide it.';

  const reveal = useCallback(async () => {
    if (!detail || !hasMedia || revealed || revealing) return;
    setRevealing(true);
    try {
      onExposure(await api.reveal(detail.id));
      setRevealed(true);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) announce(`Could not reveal: ${error instanceof Error ? error.message : String(error)}`, 'error');
    } finally {
      setRevealing(false);
    }
  }, [api, detail, hasMedia, revealed, revealing, onExposure, announce]);

  const decide = useCallback(
    async (option: DecisionOption) => {
      if (!detail || !mine || busyRef.current) return;
      busyRef.current = true;
      setBusy(true);
      setRevealed(false);
      try {
        const answer = await api.decide(detail.id, option.verdict, policy, note);
        setDetail(answer.case);
        setResult(answer.decision);
        onDecided(answer.decision, answer.case);
      } catch (error) {
        busyRef.current = false;
        setBusy(false);
        if (error instanceof ApiError && error.status === 401) return;
        announce(`Decision not recorded: ${error instanceof Error ? error.message : String(error)}`, 'error');
        if (error instanceof ApiError && error.status === 409) {
          // Someone else decided it or the claim ran out: show the case as it now stands.
          api.getCase(detail.id).then(setDetail, () => undefined);
        }
      }
    },
    [api, detail, mine, policy, note, onDecided, announce],
  );

  /** Claim or assign: both answer with the case as it now stands. */
  const takeOver = useCallback(
    async (change: () => Promise<CaseDetail>, done: (updated: CaseDetail) => string) => {
      if (busyRef.current) return;
      busyRef.current = true;
      setBusy(true);
      try {
        const updated = await change();
        setDetail(updated);
        announce(done(updated), 'info');
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 401)) announce(error instanceof Error ? error.message : String(error), 'error');
      } finally {
        busyRef.current = false;
        setBusy(false);
      }
    },
    [announce],
  );

  const release = useCallback(async () => {
    if (!detail || busyRef.current) return;
    busyRef.current = true;
    setBusy(true);
    setRevealed(false);
    try {
      await api.release(detail.id);
      onReleased(detail);
    } catch (error) {
      busyRef.current = false;
      setBusy(false);
      if (!(error instanceof ApiError && error.status === 401)) announce(`Could not release: ${error instanceof Error ? error.message : String(error)}`, 'error');
    }
  }, [api, detail, onReleased, announce]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
      if (isTextField(event.target)) {
        // Escape leaves the text field, so the next key is a shortcut again.
        if (event.key === 'Escape') (event.target as HTMLElement).blur();
        return;
      }
      if (event.key === 'Escape') {
        conceal();
        setHelpOpen(false);
        return;
      }
      if (event.key === '?') {
        event.preventDefault();
        setHelpOpen((open) => !open);
        return;
      }
      if (helpOpen || !detail) return;
      const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      if (key === 'v' && hasMedia) {
        event.preventDefault();
        void reveal();
        return;
      }
      const option = mine ? detail.decision_options.find((candidate) => candidate.key.toLowerCase() === key) : undefined;
      if (option) {
        event.preventDefault();
        void decide(option);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [detail, mine, hasMedia, helpOpen, reveal, decide, conceal]);

  if (loadError) {
    const message =
      loadError.status === 403
        ? 'This case is not in a queue of your teams.'
        : loadError.status === 404
          ? `There is no case #${caseId}.`
          : loadError.message;
    return (
      <main className="page">
        <h1>Case #{caseId}</h1>
        <p className="notice error" role="alert" data-testid="case-error">
          {message}
        </p>
        <p>
          <a href="#/queues">Back to the queues</a>
        </p>
      </main>
    );
  }
  if (!detail) {
    return (
      <main className="page">
        <p className="muted">Loading case #{caseId}…</p>
      </main>
    );
  }

  return (
    <main className="page case" aria-labelledby="case-title" data-testid="case" data-case-id={detail.id} data-status={detail.status}>
      <div className="case-head">
        <div>
          <p className="crumbs">
            <a href="#/queues">Queues</a> <span aria-hidden="true">/</span> {detail.queue} <span aria-hidden="true">/</span> case #{detail.id}
          </p>
          <h1 id="case-title">
            {humanize(detail.subject.kind)} <code data-testid="subject-id">{detail.subject.id}</code>
          </h1>
          <CaseBadges detail={detail} />
        </div>
        <DueTime dueAt={detail.due_at} decided={detail.status === 'decided'} now={now} />
      </div>
      <div className="case-grid">
        <div className="evidence">
          {detail.content && (
            <section className="panel" aria-labelledby="content-title">
              <h2 id="content-title">Content</h2>
              <MediaViewer
                api={api}
                caseId={detail.id}
                content={detail.content}
                holder={detail.claimed_by}
                revealed={revealed}
                revealing={revealing}
                onReveal={() => void reveal()}
                onConceal={conceal}
              />
              <ContentFactsView content={detail.content} />
            </section>
          )}
          {detail.account && (
            <section className="panel" aria-labelledby="account-title">
              <h2 id="account-title">Account</h2>
              <AccountFactsView account={detail.account} />
            </section>
          )}
          {detail.network && (
            <section className="panel" aria-labelledby="network-title">
              <h2 id="network-title">Network #{detail.network.network_id}</h2>
              <NetworkGraph network={detail.network} />
            </section>
          )}
          {detail.bank_entry && (
            <section className="panel" aria-labelledby="bank-entry-title">
              <h2 id="bank-entry-title">Bank entry</h2>
              <BankEntryFactsView entry={detail.bank_entry} />
            </section>
          )}
          {!detail.content && !detail.account && !detail.network && !detail.bank_entry && (
            <section className="panel">
              <p className="muted">Bulwark holds no facts about this {detail.subject.kind} beyond the reasons.</p>
            </section>
          )}
        </div>
        <div className="side">
          <DecisionPanel
            detail={detail}
            canDecide={mine && result === null}
            blockedReason={result === null ? blockedReason : null}
            busy={busy}
            policy={policy}
            note={note}
            onPolicy={setPolicy}
            onNote={setNote}
            onDecide={(option) => void decide(option)}
            onRelease={() => void release()}
            onHelp={() => setHelpOpen(true)}
            onClaim={
              result === null && !mine && (detail.status === 'open' || (detail.status === 'claimed' && isLead))
                ? () => void takeOver(() => api.claim(detail.id), (updated) => `Case #${updated.id} is yours until ${formatWhen(updated.claimed_until)}.`)
                : null
            }
            onAssign={
              result === null && isLead && detail.status !== 'decided'
                ? (username) => void takeOver(() => api.assign(detail.id, username), (updated) => `Case #${updated.id} is assigned to ${updated.claimed_by ?? username}.`)
                : null
            }
          />
          {result && (
            <p className="notice success" data-testid="decision-result">
              Decided: <strong>{humanize(result.verdict)}</strong>
              {result.actions.length > 0 && ` · ${result.actions.map((action) => humanize(action.type)).join(', ')}`}. Opening the next case…
            </p>
          )}
          <Reasons detail={detail} />
          <DecisionHistory decisions={detail.decisions} />
        </div>
      </div>
      {helpOpen && <ShortcutHelp options={mine ? detail.decision_options : []} hasMedia={hasMedia} onClose={() => setHelpOpen(false)} />}
    </main>
  );
}
