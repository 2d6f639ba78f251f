/** Seeded randomness for the synthetic platform: every draw is reproducible from the seed and a stream number. */

/** murmur3's finaliser: a bijection on 32-bit integers, so distinct inputs stay distinct. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** sfc32: small, fast and statistically sound; reseeded in place so hot loops allocate nothing. */
export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(x = 0, y = 0, z = 0) {
    this.reseed(x, y, z);
  }

  reseed(x: number, y = 0, z = 0): this {
    this.a = fmix32((x + 0x9e3779b9) | 0);
    this.b = fmix32(this.a ^ Math.imul(y + 0x7f4a7c15, 0x85ebca6b));
    this.c = fmix32(this.b ^ Math.imul(z + 0x165667b1, 0xc2b2ae35));
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
    return this;
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  float(): number {
    return this.u32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Pareto with minimum 1: heavy-tailed sizes, degrees and popularity. */
  pareto(alpha: number): number {
    return Math.pow(1 - this.float(), -1 / alpha);
  }

  /** Skewed towards small values, for popular tags and queries. */
  skewed(n: number): number {
    const u = this.float();
    return Math.floor(n * u * u * u);
  }

  stochasticRound(x: number): number {
    const floor = Math.floor(x);
    return floor + (this.float() < x - floor ? 1 : 0);
  }
}

export function hex128(index: number, salt: number): string {
  // The first word is a bijection of the index, so two accounts never share a value by chance.
  const w0 = fmix32((index ^ salt) >>> 0);
  const w1 = fmix32(w0 ^ 0x68e31da4);
  const w2 = fmix32(w1 ^ 0xb5297a4d);
  const w3 = fmix32(w2 ^ 0x1b56c4e9);
  return [w0, w1, w2, w3].map((w) => w.toString(16).padStart(8, '0')).join('');
}


export function shuffle<T>(rng: Rng, list: T[]): void {
  for (let i = list.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [list[i], list[j]] = [list[j], list[i]];
  }
}

export function sample<T>(rng: Rng, list: T[], k: number): T[] {
  const copy = [...list];
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(copy.length - i);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, k);
}
