import { useEffect, useRef, useState } from 'react';
import { ApiError, type ConsoleApi } from '../api.ts';
import type { ContentFacts } from '../types.ts';

export const REVEAL_SECONDS = 20;

type Loaded = { url: string } | 'loading' | 'missing' | { error: string };

/**
 * Loads an image into an object URL that lives only as long as `key` stays the same (revoked
 * when it changes or the component goes); null `load` loads nothing. What was loaded for
 * another key is never returned, not even for the render before the effect runs.
 */
function useImage(key: string, load: (() => Promise<Blob | null>) | null): Loaded {
  const [image, setImage] = useState<{ key: string; value: Loaded } | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const active = load !== null;
  useEffect(() => {
    const current = loadRef.current;
    if (!active || !current) return;
    let url: string | null = null;
    let cancelled = false;
    const settle = (value: Loaded) => {
      if (!cancelled) setImage({ key, value });
    };
    current().then(
      (blob) => {
        if (cancelled) return;
        if (!blob) return settle('missing');
        url = URL.createObjectURL(blob);
        settle({ url });
      },
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 401) return;
        if (error instanceof ApiError && error.status === 403 && /claim/i.test(error.message)) return settle({ error: 'Claim this case to see its media.' });
        settle({ error: error instanceof Error ? error.message : String(error) });
      },
    );
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
      // Forget the revoked URL, so a later load under the same key starts from 'loading'.
      setImage(null);
    };
  }, [key, active]);
  return active && image?.key === key ? image.value : 'loading';
}

/**
 * The case's media. Before a reveal only the server's blurred, greyscale preview reaches the
 * browser; the original is fetched after the reveal (which the server counts as an exposure and
 * opens for one fetch), shown until the reviewer looks away, and dropped when it blurs again.
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
  /** Who holds the case: the preview is fetched again when that changes (only the holder or a lead may see it). */
  holder: string | null;
  /** The server has counted a reveal: fetch and show the original. */
  revealed: boolean;
  revealing: boolean;
  onReveal: () => void;
  onConceal: () => void;
}) {
  const preview = useImage(`${caseId}:${holder ?? ''}`, content.media_available ? () => api.preview(caseId) : null);
  // Fetched anew for each reveal (the server opens the original once per reveal) and dropped when it blurs again.
  const original = useImage(`${caseId}:${revealed}`, content.media_available && revealed ? () => api.media(caseId) : null);
  const showOriginal = revealed && typeof original === 'object' && 'url' in original;
  const media: Loaded = showOriginal ? original : revealed && typeof original === 'object' && 'error' in original ? original : preview;

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
      <div className={showOriginal ? 'media-frame revealed' : 'media-frame'}>
        {media === 'loading' && <p className="muted">Loading media…</p>}
        {typeof media === 'object' && 'error' in media && (
          <p className="notice" data-testid="media-error">
            {media.error}
          </p>
        )}
        {typeof media === 'object' && 'url' in media && (
          <img
            src={media.url}
            alt={showOriginal ? `Media of content ${content.content_id}` : `Media of content ${content.content_id}, blurred`}
            data-testid="case-media"
            data-revealed={showOriginal ? 'true' : 'false'}
            className={showOriginal ? 'media revealed' : 'media concealed'}
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
            <button type="button" onClick={onReveal} disabled={revealing || typeof preview !== 'object' || !('url' in preview)} data-testid="reveal-button">
              Reveal <kbd>v</kbd>
            </button>
            <span className="muted small">Blurred and greyed. Revealing counts towards today's exposure.</span>
          </>
        )}
      </div>
    </div>
  );
}
