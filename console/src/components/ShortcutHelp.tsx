import { useEffect, useRef } from 'react';
import type { DecisionOption } from '../types.ts';

export function ShortcutHelp({ options, hasMedia, onClose }: { options: DecisionOption[]; hasMedia: boolean; onClose: () => void }) {
  const closeButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    closeButton.current?.focus();
    return () => previous?.focus?.();
  }, []);
  return (
    <div className="overlay" onClick={onClose}>
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" onClick={(event) => event.stopPropagation()} data-testid="shortcut-help">
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <p className="muted small">They work whenever the cursor is not in a text field.</p>
        <table className="data compact">
          <tbody>
            {options.map((option) => (
              <tr key={option.verdict}>
                <td>
                  <kbd>{option.key}</kbd>
                </td>
                <td>{option.label}</td>
              </tr>
            ))}
            {hasMedia && (
              <tr>
                <td>
                  <kbd>v</kbd>
                </td>
                <td>Reveal the media (counts as an exposure)</td>
              </tr>
            )}
            <tr>
              <td>
                <kbd>Esc</kbd>
              </td>
              <td>Blur the media again; close this help</td>
            </tr>
            <tr>
              <td>
                <kbd>?</kbd>
              </td>
              <td>Show or hide this help</td>
            </tr>
          </tbody>
        </table>
        <div className="button-row end">
          <button type="button" ref={closeButton} onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
