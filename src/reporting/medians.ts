/** The middle value (the mean of the two middle ones for an even count); null for none. */
export const median = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Rounds to two decimals, as the reports print hours and shares. */
export const round2 = (value: number | null) => (value === null ? null : Math.round(value * 100) / 100);

/** Median of end − start in hours (two decimals) over the pairs that have both. */
export function medianHours(pairs: [Date | null, Date | null][]): number | null {
  return round2(median(pairs.filter((pair): pair is [Date, Date] => pair[0] !== null && pair[1] !== null).map(([start, end]) => (end.getTime() - start.getTime()) / 3_600_000)));
}
