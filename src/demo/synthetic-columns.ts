/** Typed-array building blocks of the synthetic platform: growable columns, the event schedule and its hourly buckets. */

export class Column {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
  trimmed(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** Events with explicit times, planned or produced by the simulation; sorted by hour at the end. */
export class Schedule {
  readonly tick = new Column();
  readonly offset = new Column();
  readonly type = new Column();
  readonly a = new Column();
  readonly b = new Column();
  readonly aux = new Column();
  push(tick: number, offset: number, type: number, a: number, b: number, aux: number): void {
    this.tick.push(tick);
    this.offset.push(offset);
    this.type.push(type);
    this.a.push(a);
    this.b.push(b);
    this.aux.push(aux);
  }
  get length(): number {
    return this.tick.length;
  }
}

export interface SortedSchedule {
  start: Int32Array; // per tick, T + 1
  offset: Int32Array;
  type: Int32Array;
  a: Int32Array;
  b: Int32Array;
  aux: Int32Array;
}

export function sortSchedule(schedule: Schedule, ticks: number): SortedSchedule {
  const n = schedule.length;
  const start = new Int32Array(ticks + 1);
  const tick = schedule.tick.data;
  for (let i = 0; i < n; i++) start[tick[i] + 1]++;
  for (let t = 0; t < ticks; t++) start[t + 1] += start[t];
  const cursor = start.slice(0, ticks);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[cursor[tick[i]]++] = i;
  const pick = (column: Column) => Int32Array.from(order, (i) => column.data[i]);
  return { start, offset: pick(schedule.offset), type: pick(schedule.type), a: pick(schedule.a), b: pick(schedule.b), aux: pick(schedule.aux) };
}

/** Index of the first element of sorted[from, to) that is >= value. */
export function lowerBound(sorted: Int32Array | Float64Array, from: number, to: number, value: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}


/**
 * Walker alias tables, one per community, as (threshold, account, alias account) triples:
 * draw a slot uniformly, then keep its account below the threshold or take its alias.
 */
export function aliasTables(start: Int32Array, community: Int32Array, weight: Float64Array): Float64Array {
  const groups = start.length - 1;
  const members = new Int32Array(community.length);
  const cursor = start.slice(0, groups);
  for (let i = 0; i < community.length; i++) members[cursor[community[i]]++] = i;
  const table = new Float64Array(3 * community.length);
  const scaled = new Float64Array(community.length);
  const small: number[] = [];
  const large: number[] = [];
  for (let c = 0; c < groups; c++) {
    const from = start[c];
    const n = start[c + 1] - from;
    if (n === 0) continue;
    let total = 0;
    for (let k = from; k < from + n; k++) total += weight[members[k]];
    small.length = 0;
    large.length = 0;
    for (let k = from; k < from + n; k++) {
      scaled[k] = (weight[members[k]] * n) / total;
      (scaled[k] < 1 ? small : large).push(k);
    }
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large[large.length - 1];
      table[3 * s] = scaled[s];
      table[3 * s + 1] = members[s];
      table[3 * s + 2] = members[l];
      scaled[l] -= 1 - scaled[s];
      if (scaled[l] < 1) small.push(large.pop()!);
    }
    // Left over by rounding: keep their own account always.
    for (const k of [...small, ...large]) {
      table[3 * k] = 1;
      table[3 * k + 1] = members[k];
      table[3 * k + 2] = members[k];
    }
  }
  return table;
}

export function bucket(ticks: Int32Array, T: number): { start: Int32Array; order: Int32Array } {
  const start = new Int32Array(T + 1);
  for (const t of ticks) start[t + 1]++;
  for (let t = 0; t < T; t++) start[t + 1] += start[t];
  const cursor = start.slice(0, T);
  const order = new Int32Array(ticks.length);
  for (let i = 0; i < ticks.length; i++) order[cursor[ticks[i]]++] = i;
  return { start, order };
}

