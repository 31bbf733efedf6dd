// Post-processors of tokenizer.json ("post_processor" field): they add the special tokens around one sequence
// or a pair and set the type ids.
import { concatEncodings, specialEncoding, type Encoding } from './encoding.js';
import { BYTE_TO_CHAR, isWhitespace } from './unicode.js';

export interface PostProcessor {
  /** How many special tokens are added around a single sequence or a pair. */
  addedTokens(isPair: boolean): number;
  /** Returns the encodings after processing (still separate; the caller concatenates them). */
  process(encodings: Encoding[], addSpecialTokens: boolean): Encoding[];
}

type Json = Record<string, any>;

const SPACE_CHAR = BYTE_TO_CHAR[0x20];

/** Moves token offsets past leading/trailing spaces (ByteLevel trim_offsets). */
export function trimByteLevelOffsets(e: Encoding, addPrefixSpace: boolean): void {
  e.tokens.forEach((tok, i) => {
    const cs = Array.from(tok);
    const isSpace = (c: string) => c === SPACE_CHAR || isWhitespace(c);
    let lead = 0;
    while (lead < cs.length && isSpace(cs[lead])) lead++;
    let trail = 0;
    while (trail < cs.length && isSpace(cs[cs.length - 1 - trail])) trail++;
    const o = e.offsets[i];
    if (lead > 0 || trail > 0) {
      if (lead > 0) {
        const isFirst = i === 0 || o[0] === 0;
        if (isFirst && addPrefixSpace && lead === 1) lead = 0;
        o[0] = Math.min(o[0] + lead, o[1]);
      }
      if (trail > 0 && o[1] >= trail) o[1] = Math.max(o[1] - trail, o[0]);
    }
  });
}

function setTypeIds(e: Encoding, t: number): void {
  e.type_ids = e.ids.map(() => t);
}

function tokenPair(v: unknown, field: string, where: string): [string, number] {
  if (!Array.isArray(v) || v.length !== 2) throw new Error(`${where}: ${field} must be [token, id]`);
  return [String(v[0]), Number(v[1])];
}

export function buildPostProcessor(cfg: Json | null | undefined, where: string): PostProcessor | null {
  if (cfg === null || cfg === undefined) return null;
  const at = `${where}: post_processor ${cfg.type}`;
  switch (cfg.type) {
    case 'BertProcessing': {
      const [sepT, sepId] = tokenPair(cfg.sep, 'sep', at);
      const [clsT, clsId] = tokenPair(cfg.cls, 'cls', at);
      return {
        addedTokens: (pair) => (pair ? 3 : 2),
        process(encs, add) {
          if (!add) return encs;
          const out = [
            concatEncodings([
              specialEncoding([clsId], [clsT], 0),
              withTypes(encs[0], 0),
              specialEncoding([sepId], [sepT], 0),
            ]),
          ];
          if (encs[1]) out.push(concatEncodings([withTypes(encs[1], 1), specialEncoding([sepId], [sepT], 1)]));
          return out;
        },
      };
    }
    case 'RobertaProcessing': {
      const [sepT, sepId] = tokenPair(cfg.sep, 'sep', at);
      const [clsT, clsId] = tokenPair(cfg.cls, 'cls', at);
      const trim = cfg.trim_offsets ?? true;
      const addPrefixSpace = cfg.add_prefix_space ?? true;
      return {
        addedTokens: (pair) => (pair ? 4 : 2),
        process(encs, add) {
          if (trim) encs.forEach((e) => trimByteLevelOffsets(e, addPrefixSpace));
          encs.forEach((e) => setTypeIds(e, 0));
          if (!add) return encs;
          const out = [
            concatEncodings([specialEncoding([clsId], [clsT], 0), encs[0], specialEncoding([sepId], [sepT], 0)]),
          ];
          if (encs[1])
            out.push(
              concatEncodings([specialEncoding([sepId], [sepT], 0), encs[1], specialEncoding([sepId], [sepT], 0)]),
            );
          return out;
        },
      };
    }
    case 'ByteLevel': {
      const trim = cfg.trim_offsets ?? true;
      const addPrefixSpace = cfg.add_prefix_space ?? true;
      return {
        addedTokens: () => 0,
        process(encs) {
          if (trim) encs.forEach((e) => trimByteLevelOffsets(e, addPrefixSpace));
          return encs;
        },
      };
    }
    case 'TemplateProcessing':
      return templateProcessing(cfg, at);
    case 'Sequence': {
      const parts = (cfg.processors as Json[])
        .map((p, i) => buildPostProcessor(p, `${where}: processors[${i}]`))
        .filter((p): p is PostProcessor => p !== null);
      return {
        addedTokens: (pair) => parts.reduce((s, p) => s + p.addedTokens(pair), 0),
        process(encs, add) {
          return parts.reduce((e, p) => p.process(e, add), encs);
        },
      };
    }
    default:
      throw new Error(`${where}: unsupported post_processor type '${cfg.type}'`);
  }
}

function withTypes(e: Encoding, t: number): Encoding {
  return { ...e, type_ids: e.ids.map(() => t) };
}

type Piece = { kind: 'seq'; which: 0 | 1; typeId: number } | { kind: 'special'; id: string; typeId: number };

function parseTemplate(v: unknown, where: string): Piece[] {
  if (typeof v === 'string') {
    // The short form "[CLS] $A [SEP] $B:1 [SEP]:1".
    return v
      .split(/\s+/)
      .filter((s) => s.length > 0)
      .map((s): Piece => {
        const m = /^(.*?)(?::(\d+))?$/.exec(s)!;
        const name = m[1];
        const typeId = m[2] ? Number(m[2]) : 0;
        if (name === '$A' || name === '$a' || name === '$') return { kind: 'seq', which: 0, typeId };
        if (name === '$B' || name === '$b') return { kind: 'seq', which: 1, typeId };
        if (/^\$\d+$/.test(name)) return { kind: 'seq', which: 0, typeId: Number(name.slice(1)) };
        return { kind: 'special', id: name, typeId };
      });
  }
  if (!Array.isArray(v)) throw new Error(`${where}: template must be a list of pieces`);
  return v.map((p: Json, i: number): Piece => {
    if (p.Sequence) return { kind: 'seq', which: p.Sequence.id === 'B' ? 1 : 0, typeId: p.Sequence.type_id ?? 0 };
    if (p.SpecialToken) return { kind: 'special', id: String(p.SpecialToken.id), typeId: p.SpecialToken.type_id ?? 0 };
    throw new Error(`${where}[${i}]: expected {"Sequence": ...} or {"SpecialToken": ...}`);
  });
}

function templateProcessing(cfg: Json, at: string): PostProcessor {
  const single = parseTemplate(cfg.single, `${at}: single`);
  const pair = parseTemplate(cfg.pair, `${at}: pair`);
  const specials = new Map<string, { ids: number[]; tokens: string[] }>();
  for (const [k, v] of Object.entries((cfg.special_tokens ?? {}) as Record<string, Json>))
    specials.set(k, { ids: v.ids, tokens: v.tokens });
  for (const p of [...single, ...pair]) {
    if (p.kind === 'special' && !specials.has(p.id))
      throw new Error(`${at}: special token '${p.id}' is used in a template but missing from special_tokens`);
  }
  const count = (t: Piece[]) => t.reduce((s, p) => s + (p.kind === 'special' ? specials.get(p.id)!.ids.length : 0), 0);
  return {
    addedTokens: (isPair) => count(isPair ? pair : single),
    process(encs, add) {
      const template = encs.length === 2 ? pair : single;
      const parts: Encoding[] = [];
      for (const p of template) {
        if (p.kind === 'seq') {
          const e = encs[p.which];
          if (e) parts.push(withTypes(e, p.typeId));
        } else if (add) {
          const s = specials.get(p.id)!;
          parts.push(specialEncoding(s.ids, s.tokens, p.typeId));
        }
      }
      return [concatEncodings(parts)];
    },
  };
}
