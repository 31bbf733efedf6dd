// A tokenizer loaded from a Hugging Face tokenizer.json: added tokens, normalizer, pre-tokenizer, model,
// post-processor, truncation, padding and decoder, reproducing the Rust `tokenizers` library (0.2x).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDecoder, type Decoder } from './decoders.js';
import {
  emptyEncoding,
  concatEncodings,
  padEncoding,
  truncatePair,
  type Direction,
  type Encoding,
  type PadParams,
  type TruncationStrategy,
} from './encoding.js';
import { buildModel, type Model } from './models.js';
import { NormalizedString } from './normalized-string.js';
import { buildNormalizer, type Normalizer } from './normalizers.js';
import { buildPostProcessor, type PostProcessor } from './post-processors.js';
import { buildPreTokenizer, PreTokenized, type PreTokenizer, type Split } from './pre-tokenizers.js';
import { codePointIndex, isWhitespace } from './unicode.js';

export type { Encoding } from './encoding.js';

export interface AddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface EncodeOptions {
  /** Add the post-processor's special tokens ([CLS]/[SEP], <s>/</s>, ...). Default true. */
  addSpecialTokens?: boolean;
  /** Total length limit (special tokens included) for truncation and for padding 'max_length'. */
  maxLength?: number;
  /** true (= 'longest_first'), a strategy, or false. Default: true when maxLength is given, else the file's setting. */
  truncation?: boolean | TruncationStrategy;
  truncationSide?: Direction;
  /** 'max_length' pads to maxLength, 'longest' to the longest of a batch. Default: the file's setting. */
  padding?: 'max_length' | 'longest' | false;
  padToMultipleOf?: number;
  paddingSide?: Direction;
  /** Overrides the padding token (its id is looked up). */
  padToken?: string;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

type Json = Record<string, any>;

interface Defaults {
  truncation: { maxLength: number; strategy: TruncationStrategy; direction: Direction } | null;
  padding: {
    fixed: number | null;
    multiple: number | null;
    direction: Direction;
    padId: number;
    padTypeId: number;
    padToken: string;
  } | null;
  /** pad token named by tokenizer_config.json / special_tokens_map.json */
  configPadToken: string | null;
  modelMaxLength: number | null;
}

function tokenName(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content;
  return null;
}

function readJson(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

export class Tokenizer {
  private addedById = new Map<number, AddedToken>();
  private addedByContent = new Map<string, AddedToken>();
  private rawAdded: AddedToken[];
  private normAdded: Array<{ token: AddedToken; text: string }>;
  private normalizer: Normalizer | null;
  private preTokenizer: PreTokenizer | null;
  readonly model: Model;
  private postProcessor: PostProcessor | null;
  private decoder: Decoder | null;
  private defaults: Defaults;

  private constructor(
    json: Json,
    readonly source: string,
    config: Json = {},
    specialMap: Json = {},
  ) {
    if (!json || typeof json !== 'object' || !json.model)
      throw new Error(`${source}: not a tokenizer.json (no "model" field)`);
    this.normalizer = buildNormalizer(json.normalizer, source);
    this.preTokenizer = buildPreTokenizer(json.pre_tokenizer, source);
    this.model = buildModel(json.model, source);
    this.postProcessor = buildPostProcessor(json.post_processor, source);
    this.decoder = buildDecoder(json.decoder, source);
    const added: AddedToken[] = ((json.added_tokens ?? []) as Json[]).map((t, i) => {
      if (typeof t.id !== 'number' || typeof t.content !== 'string')
        throw new Error(`${source}: added_tokens[${i}] needs "id" and "content"`);
      return {
        id: t.id,
        content: t.content,
        single_word: !!t.single_word,
        lstrip: !!t.lstrip,
        rstrip: !!t.rstrip,
        normalized: t.normalized ?? !t.special,
        special: !!t.special,
      };
    });
    for (const t of added) {
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t);
    }
    this.rawAdded = added.filter((t) => !t.normalized);
    this.normAdded = added
      .filter((t) => t.normalized)
      .map((t) => {
        const n = new NormalizedString(t.content);
        this.normalizer?.(n);
        return { token: t, text: n.normalized };
      });

    const trunc = json.truncation as Json | null;
    const pad = json.padding as Json | null;
    this.defaults = {
      truncation: trunc
        ? {
            maxLength: trunc.max_length,
            strategy: String(trunc.strategy ?? 'LongestFirst')
              .replace(/([a-z])([A-Z])/g, '$1_$2')
              .toLowerCase() as TruncationStrategy,
            direction: String(trunc.direction ?? 'Right').toLowerCase() as Direction,
          }
        : null,
      padding: pad
        ? {
            fixed:
              pad.strategy && typeof pad.strategy === 'object' && 'Fixed' in pad.strategy
                ? Number(pad.strategy.Fixed)
                : null,
            multiple: pad.pad_to_multiple_of ?? null,
            direction: String(pad.direction ?? 'Right').toLowerCase() as Direction,
            padId: pad.pad_id ?? 0,
            padTypeId: pad.pad_type_id ?? 0,
            padToken: pad.pad_token ?? '[PAD]',
          }
        : null,
      configPadToken: tokenName(config.pad_token) ?? tokenName(specialMap.pad_token),
      modelMaxLength:
        typeof config.model_max_length === 'number' && config.model_max_length < 1e12 ? config.model_max_length : null,
    };
  }

  /** Loads a tokenizer.json file. */
  static fromFile(path: string): Tokenizer {
    return new Tokenizer(readJson(path), path);
  }

  /** Loads tokenizer.json (+ tokenizer_config.json and special_tokens_map.json when present) from a model folder. */
  static fromModelDir(dir: string): Tokenizer {
    const file = join(dir, 'tokenizer.json');
    if (!existsSync(file))
      throw new Error(`${dir}: no tokenizer.json in this folder (only the fast-tokenizer format is supported)`);
    const cfgPath = join(dir, 'tokenizer_config.json');
    const mapPath = join(dir, 'special_tokens_map.json');
    return new Tokenizer(
      readJson(file),
      file,
      existsSync(cfgPath) ? readJson(cfgPath) : {},
      existsSync(mapPath) ? readJson(mapPath) : {},
    );
  }

  /** Builds a tokenizer from an already parsed tokenizer.json object. */
  static fromJSON(json: Json, source = 'tokenizer.json'): Tokenizer {
    return new Tokenizer(json, source);
  }

  get modelMaxLength(): number | null {
    return this.defaults.modelMaxLength;
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.model.tokenToId(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToToken(id);
  }

  vocabSize(withAdded = true): number {
    let n = this.model.vocabSize();
    if (withAdded) for (const t of this.addedById.values()) if (this.model.idToToken(t.id) === undefined) n++;
    return n;
  }

  /** The pad token this tokenizer would use, or null when none is configured. */
  padToken(): string | null {
    return this.defaults.padding?.padToken ?? this.defaults.configPadToken;
  }

  encode(text: string, pair?: string | null, opts: EncodeOptions = {}): Encoding {
    const enc = this.encodeUnpadded(text, pair ?? null, opts);
    const pad = this.paddingPlan(opts);
    if (!pad) return enc;
    const target = pad.length ?? enc.ids.length;
    return padEncoding(enc, roundUp(target, pad.multiple), pad.params);
  }

  encodeBatch(inputs: Array<string | [string, string]>, opts: EncodeOptions = {}): Encoding[] {
    const encs = inputs.map((x) =>
      Array.isArray(x) ? this.encodeUnpadded(x[0], x[1], opts) : this.encodeUnpadded(x, null, opts),
    );
    const pad = this.paddingPlan(opts);
    if (!pad) return encs;
    const target = roundUp(pad.length ?? Math.max(0, ...encs.map((e) => e.ids.length)), pad.multiple);
    return encs.map((e) => padEncoding(e, target, pad.params));
  }

  decode(ids: number[], opts: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (const id of ids) {
      const added = this.addedById.get(id);
      const tok = added?.content ?? this.model.idToToken(id);
      if (tok === undefined) continue;
      if (opts.skipSpecialTokens && (added?.special ?? this.addedByContent.get(tok)?.special)) continue;
      tokens.push(tok);
    }
    return this.decoder ? this.decoder(tokens).join('') : tokens.join(' ');
  }

  decodeBatch(batch: number[][], opts: DecodeOptions = {}): string[] {
    return batch.map((ids) => this.decode(ids, opts));
  }

  private paddingPlan(
    opts: EncodeOptions,
  ): { length: number | null; multiple: number | null; params: PadParams } | null {
    const d = this.defaults.padding;
    let length: number | null;
    if (opts.padding === false) return null;
    if (opts.padding === 'max_length') {
      const n = opts.maxLength ?? d?.fixed ?? this.defaults.modelMaxLength;
      if (n === null || n === undefined) throw new Error(`${this.source}: padding 'max_length' needs maxLength`);
      length = n;
    } else if (opts.padding === 'longest') length = null;
    else if (d) length = d.fixed;
    else return null;
    const padToken = opts.padToken ?? d?.padToken ?? this.defaults.configPadToken ?? this.guessPadToken();
    if (padToken === null) {
      throw new Error(
        `${this.source}: padding needs a pad token: none is configured (tokenizer.json "padding", tokenizer_config.json or special_tokens_map.json "pad_token"); pass one explicitly`,
      );
    }
    const padId = opts.padToken === undefined && d && d.padToken === padToken ? d.padId : this.tokenToId(padToken);
    if (padId === undefined) throw new Error(`${this.source}: pad token '${padToken}' is not in the vocabulary`);
    return {
      length,
      multiple: opts.padToMultipleOf ?? d?.multiple ?? null,
      params: { padId, padToken, padTypeId: d?.padTypeId ?? 0, direction: opts.paddingSide ?? d?.direction ?? 'right' },
    };
  }

  private guessPadToken(): string | null {
    for (const t of ['[PAD]', '<pad>', '<|pad|>']) if (this.tokenToId(t) !== undefined) return t;
    return null;
  }

  private encodeUnpadded(text: string, pair: string | null, opts: EncodeOptions): Encoding {
    const add = opts.addSpecialTokens ?? true;
    let a = this.encodeSequence(text, 0);
    let b = pair === null ? null : this.encodeSequence(pair, 1);
    // Truncation leaves room for the special tokens the post-processor will add.
    let trunc = this.defaults.truncation;
    if (opts.truncation === false) trunc = null;
    else if (opts.truncation !== undefined || opts.maxLength !== undefined) {
      const maxLength = opts.maxLength ?? trunc?.maxLength ?? this.defaults.modelMaxLength;
      if (opts.truncation !== undefined || opts.maxLength !== undefined) {
        if (maxLength === null || maxLength === undefined)
          throw new Error(`${this.source}: truncation needs maxLength`);
        const strategy: TruncationStrategy =
          typeof opts.truncation === 'string' ? opts.truncation : (trunc?.strategy ?? 'longest_first');
        trunc = { maxLength, strategy, direction: opts.truncationSide ?? trunc?.direction ?? 'right' };
      }
    }
    if (trunc) {
      const nAdded = add && this.postProcessor ? this.postProcessor.addedTokens(b !== null) : 0;
      [a, b] = truncatePair(a, b, Math.max(0, trunc.maxLength - nAdded), trunc.strategy, trunc.direction);
    }
    const parts = this.postProcessor ? this.postProcessor.process(b ? [a, b] : [a], add) : b ? [a, b] : [a];
    return concatEncodings(parts);
  }

  /** Added tokens, normalizer, pre-tokenizer and model over one text; offsets in code points of `text`. */
  private encodeSequence(text: string, typeId: number): Encoding {
    const pre = new PreTokenized([{ normalized: new NormalizedString(text) }]);
    pre.split((n) =>
      this.splitAdded(
        n,
        this.rawAdded.map((t) => ({ token: t, text: t.content })),
      ),
    );
    pre.split((n) => {
      this.normalizer?.(n);
      return this.splitAdded(n, this.normAdded);
    });
    this.preTokenizer?.(pre);
    const cp = codePointIndex(text);
    const enc = emptyEncoding();
    pre.splits.forEach((sp, word) => {
      const toks = sp.tokens ?? this.model.tokenize(sp.normalized.normalized);
      for (const t of toks) {
        const [s, e] = sp.normalized.originalRange(t.offsets[0], t.offsets[1]);
        enc.ids.push(t.id);
        enc.tokens.push(t.value);
        enc.offsets.push([cp[s], cp[e]]);
        enc.attention_mask.push(1);
        enc.type_ids.push(typeId);
        enc.special_tokens_mask.push(0);
        enc.word_ids.push(word);
      }
    });
    return enc;
  }

  /** Cuts added tokens out of `n` (leftmost-longest match, honouring single_word, lstrip, rstrip). */
  private splitAdded(n: NormalizedString, cands: Array<{ token: AddedToken; text: string }>): Split[] {
    if (cands.length === 0 || n.isEmpty()) return [{ normalized: n }];
    const s = n.normalized;
    const pieces: Array<[number, number, AddedToken | null]> = [];
    let startOffset = 0;
    let i = 0;
    while (i < s.length) {
      let best: { token: AddedToken; text: string } | null = null;
      for (const c of cands)
        if (c.text.length > 0 && s.startsWith(c.text, i) && (!best || c.text.length > best.text.length)) best = c;
      if (!best) {
        i++;
        continue;
      }
      let start = i;
      let stop = i + best.text.length;
      const t = best.token;
      if (t.single_word) {
        const before = start === 0 || !/[\p{L}\p{N}_]$/u.test(s.slice(0, start));
        const after = stop === s.length || !/^[\p{L}\p{N}_]/u.test(s.slice(stop));
        if (!before || !after) {
          i++;
          continue;
        }
      }
      if (t.lstrip) {
        let k = start;
        while (k > 0 && isWhitespace(s[k - 1])) k--;
        start = Math.max(k, startOffset);
      }
      if (t.rstrip) while (stop < s.length && isWhitespace(s[stop])) stop++;
      if (startOffset < start) pieces.push([startOffset, start, null]);
      pieces.push([start, stop, t]);
      startOffset = stop;
      i = stop;
    }
    if (startOffset < s.length) pieces.push([startOffset, s.length, null]);
    return pieces.map(([a, b, t]): Split => {
      const slice = n.slice(a, b);
      return t
        ? { normalized: slice, tokens: [{ id: t.id, value: slice.normalized, offsets: [0, slice.length] }] }
        : { normalized: slice };
    });
  }
}

function roundUp(n: number, multiple: number | null): number {
  if (!multiple || multiple <= 0 || n % multiple === 0) return n;
  return n + multiple - (n % multiple);
}
