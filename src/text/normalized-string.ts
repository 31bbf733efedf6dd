// A string under normalisation that remembers, for every UTF-16 unit of the normalised text, which range of
// the original text it came from. This is how Hugging Face `tokenizers` reports offsets into the original
// input after lowercasing, accent stripping, byte-level mapping and so on. Rust keeps byte alignments; we
// keep UTF-16 unit alignments and convert to code points at the end (what the Python library reports).

import { isWhitespace } from './unicode.js';

export type Offsets = [number, number];

/** How a split pattern's matches are treated (SplitDelimiterBehavior in `tokenizers`). */
export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** A pattern finds matches inside a string: every unit of the string is covered, flagged match or not. */
export type Pattern = (s: string) => Array<[number, number, boolean]>;

/** One (character, change) step of a transformation: change 0 replaces one char, 1 inserts, -n also removes n. */
export type Change = [string, number];

export function chars(s: string): string[] {
  return Array.from(s);
}

export class NormalizedString {
  /** Per normalised UTF-16 unit: [start, end] in original units, absolute (whole input). */
  private align: number[];

  constructor(
    public normalized: string,
    align?: number[],
    /** Absolute original start of this piece: alignment given to text inserted at its very beginning. */
    readonly originalStart = 0,
    readonly originalEnd = normalized.length,
  ) {
    if (align) {
      this.align = align;
    } else {
      this.align = new Array<number>(normalized.length * 2);
      let i = 0;
      for (const c of normalized) {
        for (let k = 0; k < c.length; k++) {
          this.align[2 * (i + k)] = i + originalStart;
          this.align[2 * (i + k) + 1] = i + c.length + originalStart;
        }
        i += c.length;
      }
    }
  }

  get length(): number {
    return this.normalized.length;
  }

  isEmpty(): boolean {
    return this.normalized.length === 0;
  }

  /** Original range covered by normalised units [start, end). */
  originalRange(start: number, end: number): Offsets {
    if (start === end) {
      if (this.normalized.length === 0) return [this.originalStart, this.originalEnd];
      // An empty range maps to the position right after the previous unit (or the start).
      const p = start < this.normalized.length ? this.align[2 * start] : this.align[2 * start - 1];
      return [p, p];
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < end; i++) {
      lo = Math.min(lo, this.align[2 * i]);
      hi = Math.max(hi, this.align[2 * i + 1]);
    }
    return [lo, hi];
  }

  /** A new piece for normalised units [start, end), alignments kept absolute. */
  slice(start: number, end: number): NormalizedString {
    const [os, oe] = start === end ? [this.originalStart, this.originalStart] : this.originalRange(start, end);
    return new NormalizedString(this.normalized.slice(start, end), this.align.slice(2 * start, 2 * end), os, oe);
  }

  /**
   * Rewrites normalised units [start, end): `initialRemoved` chars of the range are dropped first, then each
   * step either replaces the next char (change <= 0, also dropping -change more) or inserts (change > 0, with
   * the alignment of the unit before it), exactly as NormalizedString::transform_range does.
   */
  transformRange(start: number, end: number, dest: Iterable<Change>, initialRemoved = 0): void {
    const replaced = chars(this.normalized.slice(start, end));
    let ri = 0;
    let offset = start;
    for (; ri < initialRemoved && ri < replaced.length; ri++) offset += replaced[ri].length;
    const outText: string[] = [];
    const outAlign: number[] = [];
    for (const [c, change] of dest) {
      let a0: number;
      let a1: number;
      if (change > 0) {
        if (offset < 1) {
          a0 = this.originalStart;
          a1 = this.originalStart;
        } else {
          a0 = this.align[2 * (offset - 1)];
          a1 = this.align[2 * (offset - 1) + 1];
        }
      } else {
        a0 = this.align[2 * offset];
        a1 = this.align[2 * offset + 1];
        const r = replaced[ri++];
        offset += r === undefined ? 0 : r.length;
        for (let k = 0; k < -change; k++) {
          const x = replaced[ri++];
          offset += x === undefined ? 0 : x.length;
        }
      }
      outText.push(c);
      for (let k = 0; k < c.length; k++) outAlign.push(a0, a1);
    }
    this.normalized = this.normalized.slice(0, start) + outText.join('') + this.normalized.slice(end);
    this.align = [...this.align.slice(0, 2 * start), ...outAlign, ...this.align.slice(2 * end)];
  }

  transform(dest: Iterable<Change>, initialRemoved = 0): void {
    this.transformRange(0, this.normalized.length, dest, initialRemoved);
  }

  /** Maps every char to zero or more chars; the first keeps the char's alignment, the others are insertions. */
  mapChars(f: (c: string) => string): void {
    const dest: Change[] = [];
    for (const c of this.normalized) {
      const out = chars(f(c));
      if (out.length === 0) {
        // Dropping a char is done by filter(); map never removes.
        dest.push([c, 0]);
        continue;
      }
      out.forEach((o, i) => dest.push([o, i > 0 ? 1 : 0]));
    }
    this.transform(dest);
  }

  /** Keeps the chars for which `keep` is true (removed chars vanish with their alignment). */
  filter(keep: (c: string) => boolean): void {
    const dest: Change[] = [];
    let removed = 0;
    let removedStart = 0;
    let last: string | undefined;
    for (const c of this.normalized) {
      if (keep(c)) {
        if (last !== undefined) dest.push([last, -removed]);
        else removedStart = removed;
        last = c;
        removed = 0;
      } else {
        removed++;
      }
    }
    if (last !== undefined) dest.push([last, -removed]);
    else removedStart = removed;
    this.transform(dest, removedStart);
  }

  lowercase(): void {
    this.mapChars((c) => c.toLowerCase());
  }

  uppercase(): void {
    this.mapChars((c) => c.toUpperCase());
  }

  /** Unicode normalisation, chunk by chunk so that alignments follow compositions and decompositions. */
  unicodeNormalize(form: 'NFC' | 'NFD' | 'NFKC' | 'NFKD'): void {
    const cs = chars(this.normalized);
    const dest: Change[] = [];
    let initial = 0;
    let i = 0;
    while (i < cs.length) {
      let j = i + 1;
      let chunk = cs[i];
      // Extend the chunk while the next char interacts with it (combining marks, compositions).
      while (j < cs.length) {
        const next = cs[j];
        const joined = (chunk + next).normalize(form);
        if (/^\p{M}/u.test(next) || joined !== chunk.normalize(form) + next.normalize(form)) {
          chunk += next;
          j++;
        } else break;
      }
      const nIn = j - i;
      const out = chars(chunk.normalize(form));
      if (out.length <= nIn) {
        out.forEach((c, k) => dest.push([c, k === out.length - 1 ? -(nIn - out.length) : 0]));
        if (out.length === 0) {
          // Everything vanished: attach the removal to the previous step when there is one.
          if (dest.length > 0) dest[dest.length - 1][1] -= nIn;
          else initial += nIn;
        }
      } else {
        out.forEach((c, k) => dest.push([c, k < nIn ? 0 : 1]));
      }
      i = j;
    }
    this.transform(dest, initial);
  }

  /** Replaces every match of `pattern` by `content`; the new text is aligned with the last replaced char. */
  replace(pattern: Pattern, content: string): void {
    const matches = pattern(this.normalized);
    const newText: string[] = [];
    const newAlign: number[] = [];
    for (const [s, e, isMatch] of matches) {
      if (!isMatch) {
        newText.push(this.normalized.slice(s, e));
        for (let i = s; i < e; i++) newAlign.push(this.align[2 * i], this.align[2 * i + 1]);
        continue;
      }
      // All matched chars are removed, then `content` is inserted after them (alignment of the unit before).
      let a0: number;
      let a1: number;
      if (e < 1) {
        a0 = this.originalStart;
        a1 = this.originalStart;
      } else {
        a0 = this.align[2 * (e - 1)];
        a1 = this.align[2 * (e - 1) + 1];
      }
      newText.push(content);
      for (let k = 0; k < content.length; k++) newAlign.push(a0, a1);
    }
    this.normalized = newText.join('');
    this.align = newAlign;
  }

  /** Prepends `s`, aligned with the first char (nothing happens to an empty string). */
  prepend(s: string): void {
    const first = chars(this.normalized)[0];
    if (first === undefined) return;
    const dest: Change[] = chars(s).map((c, i) => [c, i === 0 ? 0 : 1]);
    dest.push([first, 1]);
    this.transformRange(0, first.length, dest, 0);
  }

  /** Appends `s`, aligned with the last char. */
  append(s: string): void {
    const cs = chars(this.normalized);
    const last = cs[cs.length - 1];
    if (last === undefined) return;
    const dest: Change[] = [[last, 0], ...chars(s).map((c): Change => [c, 1])];
    this.transformRange(this.normalized.length - last.length, this.normalized.length, dest, 0);
  }

  /** Strips whitespace on the left and/or right. */
  strip(left: boolean, right: boolean): void {
    const cs = chars(this.normalized);
    let lead = 0;
    if (left) while (lead < cs.length && isWhitespace(cs[lead])) lead++;
    let trail = 0;
    if (right) while (trail < cs.length - lead && isWhitespace(cs[cs.length - 1 - trail])) trail++;
    if (lead === 0 && trail === 0) return;
    const dest: Change[] = [];
    for (let i = lead; i < cs.length - trail; i++) dest.push([cs[i], i === cs.length - trail - 1 ? -trail : 0]);
    this.transform(dest, lead);
  }

  /** Splits on `pattern` with the given behaviour; empty pieces are kept here and dropped by the caller. */
  split(pattern: Pattern, behavior: SplitBehavior, invert = false): NormalizedString[] {
    let matches = pattern(this.normalized);
    if (invert) matches = matches.map(([s, e, m]) => [s, e, !m]);
    const splits: Array<[number, number, boolean]> = []; // start, end, remove
    if (behavior === 'Isolated') {
      for (const [s, e] of matches) splits.push([s, e, false]);
    } else if (behavior === 'Removed') {
      for (const [s, e, m] of matches) splits.push([s, e, m]);
    } else if (behavior === 'Contiguous') {
      let prev = false;
      for (const [s, e, m] of matches) {
        const last = splits[splits.length - 1];
        if (m === prev && last) last[1] = e;
        else splits.push([s, e, false]);
        prev = m;
      }
    } else if (behavior === 'MergedWithPrevious') {
      let prev = false;
      for (const [s, e, m] of matches) {
        const last = splits[splits.length - 1];
        if (m && !prev && last) last[1] = e;
        else splits.push([s, e, false]);
        prev = m;
      }
    } else {
      let prev = false;
      for (let k = matches.length - 1; k >= 0; k--) {
        const [s, e, m] = matches[k];
        const last = splits[splits.length - 1];
        if (m && !prev && last) last[0] = s;
        else splits.push([s, e, false]);
        prev = m;
      }
      splits.reverse();
    }
    return splits.filter(([, , remove]) => !remove).map(([s, e]) => this.slice(s, e));
  }
}

/** A pattern where every char satisfying `pred` is a match of its own. */
export function charPattern(pred: (c: string) => boolean): Pattern {
  return (s) => {
    if (s.length === 0) return [[0, 0, false]];
    const out: Array<[number, number, boolean]> = [];
    let lastOffset = 0;
    let i = 0;
    for (const c of s) {
      if (pred(c)) {
        if (lastOffset < i) out.push([lastOffset, i, false]);
        out.push([i, i + c.length, true]);
        lastOffset = i + c.length;
      }
      i += c.length;
    }
    if (i > lastOffset) out.push([lastOffset, i, false]);
    return out;
  };
}

/** A pattern from a global regular expression; empty matches are ignored. */
export function regexPattern(re: RegExp): Pattern {
  const g = re.global ? re : new RegExp(re.source, re.flags + 'g');
  return (s) => {
    if (s.length === 0) return [[0, 0, false]];
    const out: Array<[number, number, boolean]> = [];
    let prev = 0;
    for (const m of s.matchAll(g)) {
      const start = m.index ?? 0;
      const end = start + m[0].length;
      if (start === end) continue;
      if (prev !== start) out.push([prev, start, false]);
      out.push([start, end, true]);
      prev = end;
    }
    if (prev !== s.length) out.push([prev, s.length, false]);
    return out;
  };
}

/** A pattern matching a literal string. */
export function stringPattern(lit: string): Pattern {
  if (lit.length === 0) return (s) => [[0, s.length, false]];
  return regexPattern(new RegExp(escapeRegExp(lit), 'gu'));
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
