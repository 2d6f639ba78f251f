/**
 * How reports print a moment: "7 December 2026, 10:20 UTC". Always in UTC and always saying so,
 * because a report is read in other time zones than the one it was made in.
 */
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const asDate = (value: Date | string) => (typeof value === 'string' ? new Date(value) : value);
const twoDigits = (n: number) => String(n).padStart(2, '0');

/** "7 December 2026", the UTC calendar day. */
export function readableDay(value: Date | string): string {
  const date = asDate(value);
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** "7 December 2026, 10:20 UTC"; seconds are shown only when the moment has them. */
export function readableTime(value: Date | string): string {
  const date = asDate(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const seconds = date.getUTCSeconds() || date.getUTCMilliseconds() ? `:${twoDigits(date.getUTCSeconds())}` : '';
  return `${readableDay(date)}, ${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}${seconds} UTC`;
}
