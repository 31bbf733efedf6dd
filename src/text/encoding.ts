// The result of encoding one input (or a pair), with the Hugging Face field names, and the truncation and
// padding steps that act on it.

export interface Encoding {
  ids: number[];
  tokens: string[];
  /** [start, end) in code points of the input text the token came from (as Python's `tokenizers` reports). */
  offsets: Array<[number, number]>;
  attention_mask: number[];
  type_ids: number[];
  special_tokens_mask: number[];
  /** Index of the pre-tokenized word each token belongs to; null for special and padding tokens. */
  word_ids: Array<number | null>;
}

export function emptyEncoding(): Encoding {
  return { ids: [], tokens: [], offsets: [], attention_mask: [], type_ids: [], special_tokens_mask: [], word_ids: [] };
}

export function concatEncodings(parts: Encoding[]): Encoding {
  const out = emptyEncoding();
  // Element by element: spreading a very long text's arrays into push() would overflow the call stack.
  for (const p of parts) {
    for (let i = 0; i < p.ids.length; i++) {
      out.ids.push(p.ids[i]);
      out.tokens.push(p.tokens[i]);
      out.offsets.push(p.offsets[i]);
      out.attention_mask.push(p.attention_mask[i]);
      out.type_ids.push(p.type_ids[i]);
      out.special_tokens_mask.push(p.special_tokens_mask[i]);
      out.word_ids.push(p.word_ids[i]);
    }
  }
  return out;
}

/** Special tokens as a post-processor adds them: offsets (0, 0), special mask 1. */
export function specialEncoding(ids: number[], tokens: string[], typeId: number): Encoding {
  return {
    ids: [...ids],
    tokens: [...tokens],
    offsets: ids.map(() => [0, 0] as [number, number]),
    attention_mask: ids.map(() => 1),
    type_ids: ids.map(() => typeId),
    special_tokens_mask: ids.map(() => 1),
    word_ids: ids.map(() => null),
  };
}

export type Direction = 'right' | 'left';

/** Keeps `maxLen` tokens (the first ones for direction right). Overflowing tokens are dropped. */
export function truncateEncoding(e: Encoding, maxLen: number, direction: Direction = 'right'): Encoding {
  if (e.ids.length <= maxLen) return e;
  const pick = <T>(a: T[]): T[] => (direction === 'right' ? a.slice(0, maxLen) : a.slice(a.length - maxLen));
  return {
    ids: pick(e.ids),
    tokens: pick(e.tokens),
    offsets: pick(e.offsets),
    attention_mask: pick(e.attention_mask),
    type_ids: pick(e.type_ids),
    special_tokens_mask: pick(e.special_tokens_mask),
    word_ids: pick(e.word_ids),
  };
}

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

/** Truncates one encoding or a pair to `maxLength` tokens in total, as `tokenizers`' truncate_encodings. */
export function truncatePair(
  a: Encoding,
  b: Encoding | null,
  maxLength: number,
  strategy: TruncationStrategy,
  direction: Direction,
): [Encoding, Encoding | null] {
  if (maxLength === 0) return [truncateEncoding(a, 0, direction), b && truncateEncoding(b, 0, direction)];
  const total = a.ids.length + (b ? b.ids.length : 0);
  if (total <= maxLength) return [a, b];
  const toRemove = total - maxLength;
  if (strategy === 'longest_first') {
    if (!b) return [truncateEncoding(a, total - toRemove, direction), null];
    let n1 = a.ids.length;
    let n2 = b.ids.length;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    if (n1 > maxLength) n2 = n1;
    else n2 = Math.max(n1, maxLength - n1);
    if (n1 + n2 > maxLength) {
      n1 = Math.floor(maxLength / 2);
      n2 = n1 + (maxLength % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    return [truncateEncoding(a, n1, direction), truncateEncoding(b, n2, direction)];
  }
  const target = strategy === 'only_first' ? a : b;
  if (!target) throw new Error('truncation only_second needs a pair of sequences');
  if (target.ids.length <= toRemove) {
    throw new Error(
      `truncation ${strategy}: the sequence (${target.ids.length} tokens) is too short to remove ${toRemove} tokens`,
    );
  }
  const t = truncateEncoding(target, target.ids.length - toRemove, direction);
  return strategy === 'only_first' ? [t, b] : [a, t];
}

export interface PadParams {
  padId: number;
  padToken: string;
  padTypeId: number;
  direction: Direction;
}

/** Pads to `length` tokens (nothing happens to a longer encoding). */
export function padEncoding(e: Encoding, length: number, p: PadParams): Encoding {
  const n = length - e.ids.length;
  if (n <= 0) return e;
  const fill = <T>(a: T[], v: T): T[] => {
    const pad = new Array<T>(n).fill(v);
    return p.direction === 'right' ? [...a, ...pad] : [...pad, ...a];
  };
  return {
    ids: fill(e.ids, p.padId),
    tokens: fill(e.tokens, p.padToken),
    offsets:
      p.direction === 'right'
        ? [...e.offsets, ...Array.from({ length: n }, (): [number, number] => [0, 0])]
        : [...Array.from({ length: n }, (): [number, number] => [0, 0]), ...e.offsets],
    attention_mask: fill(e.attention_mask, 0),
    type_ids: fill(e.type_ids, p.padTypeId),
    special_tokens_mask: fill(e.special_tokens_mask, 1),
    word_ids: fill<number | null>(e.word_ids, null),
  };
}
