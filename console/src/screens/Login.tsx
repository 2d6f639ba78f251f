import { type FormEvent, useState } from 'react';
import { ApiError, type ConsoleApi } from '../api.ts';
import type { LoginAnswer } from '../types.ts';

export function LoginScreen({ api, message, onLoggedIn }: { api: ConsoleApi; message: string | null; onLoggedIn: (answer: LoginAnswer) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api.login(username.trim(), password);
      setPassword('');
      onLoggedIn(answer);
    } catch (caught) {
      setPassword('');
      if (caught instanceof ApiError && caught.status === 401) setError('Wrong username or password.');
      else if (caught instanceof ApiError && caught.status === 429) setError('Too many attempts. Wait a minute and try again.');
      else setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Bulwark review console</h1>
        <p className="muted">Sign in with your reviewer account.</p>
        {message && !error && (
          <p className="notice" role="status" data-testid="login-message">
            {message}
          </p>
        )}
        {error && (
          <p className="notice error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <label htmlFor="login-username">Username</label>
        <input id="login-username" name="username" autoComplete="username" autoFocus required value={username} onChange={(e) => setUsername(e.target.value)} />
        <label htmlFor="login-password">Password</label>
        <input id="login-password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
