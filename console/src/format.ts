// Small, locale-aware formatting for times and numbers shown to reviewers.

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

export function formatDateTime(iso: string | null): string {
  if (!iso) return '–';
  return dateTimeFormat.format(new Date(iso));
}

/** Today's times need no date; older ones do. */
export function formatWhen(iso: string | null, now = Date.now()): string {
  if (!iso) return '–';
  const at = new Date(iso);
  return new Date(now).toDateString() === at.toDateString() ? timeFormat.format(at) : dateTimeFormat.format(at);
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

export function formatAge(iso: string | null, now = Date.now()): string {
  if (!iso) return '–';
  return formatDuration((now - new Date(iso).getTime()) / 1000);
}

export function formatScore(score: number | null): string {
  return score === null ? '–' : score.toFixed(score >= 10 ? 1 : 3);
}

/** "confirm" -> "Confirm", "remove_content" -> "remove content". */
export function humanize(word: string): string {
  const spaced = word.replace(/[_-]+/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
