// tandem's one seeded random generator (Math.random cannot be seeded): the same seed gives the same numbers
// on every platform and Node version. It lives in the lowest layer so that data, models and eval share it.
//
// Two streams, kept because results people have already saved depend on each exact sequence:
// - 'mulberry32' (32-bit state): data splits (written to split files and redrawn from the seed), the loader's
//   epoch order, synthetic data and ViLT's seeded patch selection. Changing it would silently move every
//   post of a seeded split to another set.
// - 'sfc32' (128-bit state, seeded through splitmix32 so that nearby seeds diverge): the significance tests'
//   resampling, whose p-values are reported with their seed. The better generator, hence the default.

export type RandomStream = 'mulberry32' | 'sfc32';

const TWO_POW_32 = 4294967296;

export class SeededRandom {
  readonly stream: RandomStream;
  private a: number;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(seed: number, stream: RandomStream = 'sfc32') {
    if (!Number.isInteger(seed)) throw new RangeError(`seed = ${seed}: expected an integer`);
    this.stream = stream;
    let s = seed >>> 0;
    if (stream === 'mulberry32') {
      this.a = s;
      return;
    }
    const splitmix32 = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix32();
    this.b = splitmix32();
    this.c = splitmix32();
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    if (this.stream === 'mulberry32') {
      this.a = (this.a + 0x6d2b79f5) >>> 0;
      let t = this.a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    }
    // sfc32 (Chris Doty-Humphrey's small fast counter)
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [0, n), n <= 2^32, without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new RangeError(`int(${n}): expected 1 <= n <= 2^32`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Fisher-Yates shuffle of `items` in place (j = floor(next() * (i + 1)), from the end), returned. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}
