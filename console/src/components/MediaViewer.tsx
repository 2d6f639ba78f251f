import { useEffect, useState } from 'react';
import { ApiError, type ConsoleApi } from '../api.ts';
import type { ContentFacts } from '../types.ts';

export const REVEAL_SECONDS = 20;

/**
 * The case's media, blurred and grey by default. It is shown as it is only after the reviewer
 * asks (which the server counts as an exposure), and only until they look away.
 */
export function MediaViewer({
  api,
  caseId,
  content,
  holder,
  revealed,
  revealing,
  onReveal,
  onConceal,
}: {
  api: ConsoleApi;
  caseId: number;
  content: ContentFacts;
  /** Who holds the case: the media is fetched again when that changes (only the holder or a lead may see it). */
  holder: string | null;
  revealed: boolean;
  revealing: boolean;
  onReveal: () => void;
  onConceal: () => void;
}) {
  const [media, setMedia] = useState<{ url: string } | 'loading' | 'missing' | { error: string }>('loading');

  useEffect(() => {
    if (!content.media_available) return;
    let url: string | null = null;
    let cancelled = false;
    setMedia('loading');
    api.media(caseId).then(
      (blob) => {
        if (cancelled) return;
        if (!blob) return setMedia('missing');
        url = URL.createObjectURL(blob);
        setMedia({ url });
      },
      (error: unknown) => {
        if (cancelled) return;
        if (error instanceof ApiError && error.status === 401) return;
        if (error instanceof ApiError && error.status === 403) return setMedia({ error: 'Claim this case to see its media.' });
        setMedia({ error: error instanceof Error ? error.message : String(error) });
      },
    );
    // The bytes live only as long as the case is on screen.
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [api, caseId, content.media_available, holder]);

  if (!content.media_available || media === 'missing') {
    return (
      <div className="media-frame held" data-testid="media-held">
        <p>
          <strong>Media held by the platform.</strong>
        </p>
        <p className="muted small">Bulwark received hashes only; decide on the matches and signals below.</p>
      </div>
    );
  }

  return (
    <div className="media-block">
      <div className={revealed ? 'media-frame revealed' : 'media-frame'}>
        {media === 'loading' && <p className="muted">Loading media…</p>}
        {typeof media === 'object' && 'error' in media && (
          <p className="notice" data-testid="media-error">
            {media.error}
          </p>
        )}
        {typeof media === 'object' && 'url' in media && (
          <img
            src={media.url}
            alt={revealed ? `Media of content ${content.content_id}` : `Media of content ${content.content_id}, blurred`}
            data-testid="case-media"
            data-revealed={revealed ? 'true' : 'false'}
            className={revealed ? 'media revealed' : 'media concealed'}
            draggable={false}
            onContextMenu={(event) => event.preventDefault()}
          />
        )}
      </div>
      <div className="media-controls">
        {revealed ? (
          <>
            <button type="button" onClick={onConceal}>
              Blur again <kbd>Esc</kbd>
            </button>
            <span className="muted small" role="status">
              Shown as it is. It blurs again after {REVEAL_SECONDS} s, or when you leave this case or window.
            </span>
          </>
        ) : (
          <>
            <button type="button" onClick={onReveal} disabled={revealing || typeof media !== 'object' || !('url' in media)} data-testid="reveal-button">
              Reveal <kbd>v</kbd>
            </button>
            <span className="muted small">Blurred and greyed. Revealing counts towards today's exposure.</span>
          </>
        )}
      </div>
    </div>
  );
}
