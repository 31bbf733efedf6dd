// Tokenization models of tokenizer.json ("model" field): WordPiece, BPE (also byte-level and CLIP's with an
// end-of-word suffix) and Unigram. Each turns one pre-tokenized word into tokens with offsets in that word.
import { chars } from './normalized-string.js';

export interface Token {
  id: number;
  value: string;
  /** [start, end) in UTF-16 units of the word. */
  offsets: [number, number];
}

export interface Model {
  readonly type: string;
  tokenize(word: string): Token[];
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  vocabSize(): number;
}

type Json = Record<string, any>;

function vocabMap(v: unknown, where: string): Map<string, number> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new Error(`${where}: model.vocab must be an object of token -> id`);
  return new Map(Object.entries(v as Record<string, number>));
}

function reverse(vocab: Map<string, number>): string[] {
  const r: string[] = [];
  for (const [k, id] of vocab) r[id] = k;
  return r;
}

export function buildModel(cfg: Json, where: string): Model {
  const type = cfg.type ?? inferType(cfg);
  switch (type) {
    case 'WordPiece':
      return new WordPiece(cfg, where);
    case 'BPE':
      return new BPE(cfg, where);
    case 'Unigram':
      return new Unigram(cfg, where);
    case 'WordLevel':
      return new WordLevel(cfg, where);
    default:
      throw new Error(`${where}: unsupported model type '${type}' (supported: WordPiece, BPE, Unigram, WordLevel)`);
  }
}

// Old files omit "type"; the fields tell the model apart as the Rust deserializer does.
function inferType(cfg: Json): string {
  if (Array.isArray(cfg.vocab)) return 'Unigram';
  if (cfg.merges !== undefined) return 'BPE';
  if (cfg.continuing_subword_prefix !== undefined || cfg.max_input_chars_per_word !== undefined) return 'WordPiece';
  return 'unknown';
}

class WordPiece implements Model {
  readonly type = 'WordPiece';
  private vocab: Map<string, number>;
  private rev: string[];
  private unk: string;
  private prefix: string;
  private maxChars: number;

  constructor(
    cfg: Json,
    private where: string,
  ) {
    this.vocab = vocabMap(cfg.vocab, where);
    this.rev = reverse(this.vocab);
    this.unk = cfg.unk_token ?? '[UNK]';
    this.prefix = cfg.continuing_subword_prefix ?? '##';
    this.maxChars = cfg.max_input_chars_per_word ?? 100;
  }

  private unkToken(len: number): Token[] {
    const id = this.vocab.get(this.unk);
    if (id === undefined) throw new Error(`${this.where}: WordPiece unk_token '${this.unk}' is not in the vocabulary`);
    return [{ id, value: this.unk, offsets: [0, len] }];
  }

  tokenize(word: string): Token[] {
    if (chars(word).length > this.maxChars) return this.unkToken(word.length);
    const out: Token[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found: Token | undefined;
      while (start < end) {
        const piece = (start > 0 ? this.prefix : '') + word.slice(start, end);
        const id = this.vocab.get(piece);
        if (id !== undefined) {
          found = { id, value: piece, offsets: [start, end] };
          break;
        }
        // Step back one code point.
        const lastUnit = word.charCodeAt(end - 1);
        end -= (lastUnit & 0xfc00) === 0xdc00 && end - 2 >= start ? 2 : 1;
      }
      if (!found) return this.unkToken(word.length);
      out.push(found);
      start = end;
    }
    return out;
  }

  tokenToId(t: string) {
    return this.vocab.get(t);
  }
  idToToken(id: number) {
    return this.rev[id];
  }
  vocabSize() {
    return this.vocab.size;
  }
}

class BPE implements Model {
  readonly type = 'BPE';
  private vocab: Map<string, number>;
  private rev: string[];
  /** "idA idB" -> [rank, merged id] */
  private merges = new Map<string, [number, number]>();
  private unk: string | null;
  private prefix: string | null;
  private suffix: string | null;
  private fuseUnk: boolean;
  private byteFallback: boolean;
  private ignoreMerges: boolean;
  private cache = new Map<string, Token[]>();

  constructor(
    cfg: Json,
    private where: string,
  ) {
    this.vocab = vocabMap(cfg.vocab, where);
    this.rev = reverse(this.vocab);
    this.unk = cfg.unk_token ?? null;
    this.prefix = cfg.continuing_subword_prefix ?? null;
    this.suffix = cfg.end_of_word_suffix ?? null;
    this.fuseUnk = cfg.fuse_unk ?? false;
    this.byteFallback = cfg.byte_fallback ?? false;
    this.ignoreMerges = cfg.ignore_merges ?? false;
    if (cfg.dropout !== null && cfg.dropout !== undefined && cfg.dropout !== 0) {
      throw new Error(`${where}: BPE dropout ${cfg.dropout} is not supported (tokenization would be random)`);
    }
    const merges: unknown[] = cfg.merges ?? [];
    const prefixLen = this.prefix ? this.prefix.length : 0;
    merges.forEach((m, rank) => {
      let a: string;
      let b: string;
      if (Array.isArray(m)) [a, b] = m as [string, string];
      else {
        const s = String(m);
        const sp = s.indexOf(' ', 1);
        if (sp < 0) throw new Error(`${where}: model.merges[${rank}] '${s}' is not "a b"`);
        a = s.slice(0, sp);
        b = s.slice(sp + 1);
      }
      const ia = this.vocab.get(a);
      const ib = this.vocab.get(b);
      const merged = a + b.slice(prefixLen);
      const im = this.vocab.get(merged);
      if (ia === undefined || ib === undefined || im === undefined) {
        throw new Error(`${where}: model.merges[${rank}] (${a} ${b}) uses a token that is not in the vocabulary`);
      }
      this.merges.set(`${ia} ${ib}`, [rank, im]);
    });
  }

  tokenize(word: string): Token[] {
    if (word.length === 0) return [];
    const hit = this.cache.get(word);
    if (hit) return hit.map((t) => ({ ...t, offsets: [t.offsets[0], t.offsets[1]] }));
    let toks: Token[];
    const whole = this.ignoreMerges ? this.vocab.get(word) : undefined;
    if (whole !== undefined) toks = [{ id: whole, value: word, offsets: [0, word.length] }];
    else toks = this.mergeWord(word);
    if (this.cache.size < 10000) this.cache.set(word, toks);
    return toks.map((t) => ({ ...t, offsets: [t.offsets[0], t.offsets[1]] }));
  }

  private mergeWord(word: string): Token[] {
    const cs = chars(word);
    // Symbols with [start, end) in UTF-16 units of the word.
    const syms: Array<{ id: number; start: number; end: number }> = [];
    let unk: { id: number; start: number; end: number } | null = null;
    let pos = 0;
    cs.forEach((c, i) => {
      const start = pos;
      pos += c.length;
      let s = c;
      if (i > 0 && this.prefix) s = this.prefix + s;
      if (i === cs.length - 1 && this.suffix) s = s + this.suffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        if (unk) {
          syms.push(unk);
          unk = null;
        }
        syms.push({ id, start, end: pos });
        return;
      }
      if (this.byteFallback) {
        const ids = Array.from(Buffer.from(c, 'utf8')).map((b) =>
          this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`),
        );
        if (ids.every((x) => x !== undefined)) {
          if (unk) {
            syms.push(unk);
            unk = null;
          }
          // Every byte token of a char points at the whole char (offsets are in characters).
          ids.forEach((x) => syms.push({ id: x as number, start, end: pos }));
          return;
        }
      }
      if (this.unk !== null) {
        const unkId = this.vocab.get(this.unk);
        if (unkId === undefined) throw new Error(`${this.where}: BPE unk_token '${this.unk}' is not in the vocabulary`);
        if (unk && this.fuseUnk) unk.end = pos;
        else {
          if (unk) syms.push(unk);
          unk = { id: unkId, start, end: pos };
        }
      }
    });
    if (unk) syms.push(unk);
    // Merge the lowest-ranked adjacent pair (leftmost on ties) until none applies.
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      let bestId = -1;
      for (let i = 0; i + 1 < syms.length; i++) {
        const m = this.merges.get(`${syms[i].id} ${syms[i + 1].id}`);
        if (m && m[0] < bestRank) {
          bestRank = m[0];
          best = i;
          bestId = m[1];
        }
      }
      if (best < 0) break;
      syms.splice(best, 2, { id: bestId, start: syms[best].start, end: syms[best + 1].end });
    }
    return syms.map((s) => ({ id: s.id, value: this.rev[s.id], offsets: [s.start, s.end] }));
  }

  tokenToId(t: string) {
    return this.vocab.get(t);
  }
  idToToken(id: number) {
    return this.rev[id];
  }
  vocabSize() {
    return this.vocab.size;
  }
}

/** One token per pre-tokenized word, or the unknown token. */
class WordLevel implements Model {
  readonly type = 'WordLevel';
  private vocab: Map<string, number>;
  private rev: string[];
  private unk: string;

  constructor(
    cfg: Json,
    private where: string,
  ) {
    this.vocab = vocabMap(cfg.vocab, where);
    this.rev = reverse(this.vocab);
    this.unk = cfg.unk_token ?? '<unk>';
  }

  tokenize(word: string): Token[] {
    const id = this.vocab.get(word);
    if (id !== undefined) return [{ id, value: word, offsets: [0, word.length] }];
    const unkId = this.vocab.get(this.unk);
    if (unkId === undefined)
      throw new Error(`${this.where}: WordLevel unk_token '${this.unk}' is not in the vocabulary`);
    return [{ id: unkId, value: this.unk, offsets: [0, word.length] }];
  }

  tokenToId(t: string) {
    return this.vocab.get(t);
  }
  idToToken(id: number) {
    return this.rev[id];
  }
  vocabSize() {
    return this.vocab.size;
  }
}

const K_UNK_PENALTY = 10;

class Unigram implements Model {
  readonly type = 'Unigram';
  private pieces: Array<[string, number]>;
  private ids = new Map<string, number>();
  private unkId: number | null;
  private byteFallback: boolean;
  private fuseUnk: boolean;
  private minScore = Infinity;
  private maxLen = 0;

  constructor(cfg: Json, where: string) {
    if (!Array.isArray(cfg.vocab)) throw new Error(`${where}: Unigram model.vocab must be a list of [piece, score]`);
    this.pieces = cfg.vocab as Array<[string, number]>;
    this.pieces.forEach(([p, score], i) => {
      if (!this.ids.has(p)) this.ids.set(p, i);
      if (score < this.minScore) this.minScore = score;
      this.maxLen = Math.max(this.maxLen, p.length);
    });
    this.unkId = cfg.unk_id ?? null;
    this.byteFallback = cfg.byte_fallback ?? false;
    this.fuseUnk = cfg.fuse_unk ?? true;
  }

  /** Viterbi best segmentation, sentencepiece's optimized algorithm. */
  private encode(s: string): string[] {
    const n = s.length;
    const unkScore = this.minScore - K_UNK_PENALTY;
    const score = new Float64Array(n + 1);
    const from = new Int32Array(n + 1).fill(-1);
    const idAt = new Int32Array(n + 1);
    let start = 0;
    while (start < n) {
      const base = score[start];
      const cpLen = s.codePointAt(start)! > 0xffff ? 2 : 1;
      let single = false;
      const maxEnd = Math.min(n, start + this.maxLen);
      for (let end = start + 1; end <= maxEnd; end++) {
        const id = this.ids.get(s.slice(start, end));
        if (id === undefined) continue;
        const cand = this.pieces[id][1] + base;
        if (from[end] < 0 || cand > score[end]) {
          score[end] = cand;
          from[end] = start;
          idAt[end] = id;
        }
        if (end - start === cpLen) single = true;
      }
      if (!single) {
        if (this.unkId === null) throw new Error('Unigram model has no unk_id but the input needs it');
        const end = start + cpLen;
        const cand = unkScore + base;
        if (from[end] < 0 || cand > score[end]) {
          score[end] = cand;
          from[end] = start;
          idAt[end] = this.unkId;
        }
      }
      start += cpLen;
    }
    const out: string[] = [];
    let pending: string[] = [];
    let end = n;
    while (end > 0) {
      const st = from[end];
      const piece = s.slice(st, end);
      if (this.fuseUnk && this.unkId !== null && idAt[end] === this.unkId) pending.push(piece);
      else {
        if (pending.length) {
          out.push(pending.reverse().join(''));
          pending = [];
        }
        out.push(piece);
      }
      end = st;
    }
    if (pending.length) out.push(pending.reverse().join(''));
    return out.reverse();
  }

  tokenize(word: string): Token[] {
    if (word.length === 0) return [];
    const out: Token[] = [];
    let offset = 0;
    for (const piece of this.encode(word)) {
      const len = piece.length;
      const id = this.ids.get(piece);
      if (id !== undefined) out.push({ id, value: piece, offsets: [offset, offset + len] });
      else {
        let done = false;
        if (this.byteFallback) {
          const ids = Array.from(Buffer.from(piece, 'utf8')).map((b) => {
            const t = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
            return [this.ids.get(t), t] as const;
          });
          if (ids.every(([x]) => x !== undefined)) {
            for (const [x, t] of ids) out.push({ id: x as number, value: t, offsets: [offset, offset + len] });
            done = true;
          }
        }
        if (!done) out.push({ id: this.unkId as number, value: piece, offsets: [offset, offset + len] });
      }
      offset += len;
    }
    return out;
  }

  tokenToId(t: string) {
    return this.ids.get(t);
  }
  idToToken(id: number) {
    return this.pieces[id]?.[0];
  }
  vocabSize() {
    return this.pieces.length;
  }
}
