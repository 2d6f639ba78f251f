import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, ConsoleApi } from './api.ts';
import { humanize } from './format.ts';
import { navigate, useRoute } from './route.ts';
import { AuditScreen } from './screens/Audit.tsx';
import { NcmecScreen } from './screens/Ncmec.tsx';
import { CaseScreen } from './screens/Case.tsx';
import { LoginScreen } from './screens/Login.tsx';
import { QueuesScreen } from './screens/Queues.tsx';
import type { CaseDetail, Decision, Reviewer } from './types.ts';

interface Session {
  reviewer: Reviewer;
  exposureToday: number;
}

interface Status {
  text: string;
  tone: 'info' | 'error';
  id: number;
  /** Screen changes the message outlives: it is announced just before the move to the screen it belongs with, and leaves at the next one. */
  survives: number;
}

const STATUS_SECONDS = 10;

export function App() {
  const api = useMemo(() => new ConsoleApi(), []);
  const [session, setSession] = useState<Session | null | 'loading'>('loading');
  const [loginMessage, setLoginMessage] = useState<string | null>(null);
  const [status, setStatus] = useState<Status | null>(null);
  const [claimed, setClaimed] = useState<CaseDetail | null>(null);
  const [busyQueue, setBusyQueue] = useState<string | null>(null);
  // The queue the reviewer is working through; decisions continue with its next case.
  const workingQueue = useRef<string | null>(null);
  const statusId = useRef(0);
  const route = useRoute();

  const announce = useCallback((text: string, tone: 'info' | 'error' = 'info') => {
    statusId.current += 1;
    setStatus({ text, tone, id: statusId.current, survives: 1 });
  }, []);

  // A message about the last case must not linger over the next one the reviewer opens by hand.
  const routeKey = route.screen === 'case' ? `case:${route.id}` : route.screen;
  const lastRouteKey = useRef(routeKey);
  useEffect(() => {
    if (lastRouteKey.current === routeKey) return;
    lastRouteKey.current = routeKey;
    setStatus((current) => (current === null ? null : current.survives > 0 ? { ...current, survives: current.survives - 1 } : null));
  }, [routeKey]);

  useEffect(() => {
    if (!status || status.tone === 'error') return;
    const timer = window.setTimeout(() => setStatus((current) => (current?.id === status.id ? null : current)), STATUS_SECONDS * 1000);
    return () => window.clearTimeout(timer);
  }, [status]);

  useEffect(() => {
    api.onUnauthorized = () => {
      setSession(null);
      setStatus(null);
      setClaimed(null);
      setLoginMessage('Your session has ended. Please sign in again.');
    };
    let cancelled = false;
    api.session().then(
      (answer) => {
        if (!cancelled) setSession(answer ? { reviewer: answer.reviewer, exposureToday: answer.exposure_today } : null);
      },
      (error: unknown) => {
        if (cancelled) return;
        setSession(null);
        setLoginMessage(error instanceof Error ? error.message : String(error));
      },
    );
    return () => {
      cancelled = true;
      api.onUnauthorized = null;
    };
  }, [api]);

  const onLoggedIn = useCallback(
    async (reviewer: Reviewer) => {
      setLoginMessage(null);
      setSession({ reviewer, exposureToday: 0 });
      // The login answer has no exposure count; the session has.
      const answer = await api.session().catch(() => null);
      if (answer) setSession({ reviewer: answer.reviewer, exposureToday: answer.exposure_today });
    },
    [api],
  );

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      // The session is over for this page either way.
    }
    setSession(null);
    setStatus(null);
    setClaimed(null);
    setLoginMessage('You are signed out.');
    navigate({ screen: 'queues' });
  }, [api]);

  const openNext = useCallback(
    async (queue: string, carried?: string) => {
      setBusyQueue(queue);
      try {
        const next = await api.next(queue);
        workingQueue.current = queue;
        if (next) {
          setClaimed(next);
          if (carried) announce(carried);
          navigate({ screen: 'case', id: next.id });
        } else {
          setClaimed(null);
          announce(`${carried ? `${carried} ` : ''}Queue ${queue} is empty.`);
          navigate({ screen: 'queues' });
        }
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return;
        announce(`Could not open the next case of ${queue}: ${error instanceof Error ? error.message : String(error)}`, 'error');
        navigate({ screen: 'queues' });
      } finally {
        setBusyQueue(null);
      }
    },
    [api, announce],
  );

  const onDecided = useCallback(
    (decision: Decision, detail: CaseDetail) => {
      const actions = decision.actions.length ? ` Actions: ${decision.actions.map((action) => `${humanize(action.type)} (${action.status})`).join(', ')}.` : '';
      void openNext(workingQueue.current ?? detail.queue, `Case #${detail.id}: ${humanize(decision.verdict)}.${actions}`);
    },
    [openNext],
  );

  const onReleased = useCallback(
    (detail: CaseDetail) => {
      setClaimed(null);
      announce(`Case #${detail.id} is back in ${detail.queue}.`);
      navigate({ screen: 'queues' });
    },
    [announce],
  );

  const onExposure = useCallback((exposureToday: number) => {
    setSession((current) => (current && current !== 'loading' ? { ...current, exposureToday } : current));
  }, []);

  if (session === 'loading') {
    return (
      <main className="login">
        <p className="muted">Loading…</p>
      </main>
    );
  }
  if (session === null) {
    return <LoginScreen api={api} message={loginMessage} onLoggedIn={(answer) => void onLoggedIn(answer.reviewer)} />;
  }

  const { reviewer } = session;
  const canAudit = reviewer.role === 'lead' || reviewer.role === 'admin';
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/queues">
          Bulwark <span>review</span>
        </a>
        <nav aria-label="Main">
          <a href="#/queues" aria-current={route.screen === 'queues' ? 'page' : undefined}>
            Queues
          </a>
          {canAudit && (
            <a href="#/audit" aria-current={route.screen === 'audit' ? 'page' : undefined} data-testid="audit-link">
              Audit log
            </a>
          )}
          {canAudit && (
            <a href="#/ncmec" aria-current={route.screen === 'ncmec' ? 'page' : undefined} data-testid="ncmec-link">
              NCMEC reports
            </a>
          )}
        </nav>
        <div className="who">
          <span data-testid="reviewer-name">{reviewer.username}</span>
          <span className="role">{reviewer.role}</span>
          {reviewer.teams.length > 0 && <span className="muted small">{reviewer.teams.join(', ')}</span>}
        </div>
        <div className="exposure" title="Media you revealed today. Take a break when you need one.">
          Exposures today <strong data-testid="exposure-counter">{session.exposureToday}</strong>
        </div>
        <button type="button" onClick={() => void logout()} data-testid="logout">
          Sign out
        </button>
      </header>
      {/* A row of its own under the top bar: it never covers the case below, and it is always there, so a message coming or going moves nothing. */}
      <div className={status ? `status-row ${status.tone}` : 'status-row empty'}>
        <span role="status" aria-live="polite" data-testid="status">
          {status?.text}
        </span>
        {status && (
          <button type="button" className="link-button status-dismiss" onClick={() => setStatus(null)} aria-label="Dismiss message" data-testid="status-dismiss">
            ×
          </button>
        )}
      </div>
      {route.screen === 'queues' && <QueuesScreen api={api} onStart={(queue) => void openNext(queue)} busyQueue={busyQueue} />}
      {route.screen === 'audit' && (canAudit ? <AuditScreen api={api} /> : <p className="page notice error">The audit log is for leads and admins.</p>)}
      {route.screen === 'ncmec' && (canAudit ? <NcmecScreen api={api} announce={announce} /> : <p className="page notice error">Reports to NCMEC are for leads and admins.</p>)}
      {route.screen === 'case' && (
        <CaseScreen
          key={route.id}
          api={api}
          caseId={route.id}
          initial={claimed?.id === route.id ? claimed : null}
          me={reviewer}
          onExposure={onExposure}
          onDecided={onDecided}
          onReleased={onReleased}
          announce={announce}
        />
      )}
    </div>
  );
}
