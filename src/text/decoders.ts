// Decoders of tokenizer.json ("decoder" field): tokens back to text. Each works on the whole token list
// (decode_chain in `tokenizers`); the results are joined without separator.
import { CHAR_TO_BYTE, utf8DecodeLossy } from './unicode.js';
import { patternFrom } from './normalizers.js';

export type Decoder = (tokens: string[]) => string[];

type Json = Record<string, any>;

/** WordPiece's clean-up of spaces before punctuation and in English contractions (applied per token). */
export function cleanupTokenization(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

export function buildDecoder(cfg: Json | null | undefined, where: string): Decoder | null {
  if (cfg === null || cfg === undefined) return null;
  const at = `${where}: decoder ${cfg.type}`;
  switch (cfg.type) {
    case 'WordPiece': {
      const prefix = String(cfg.prefix ?? '##');
      const cleanup = cfg.cleanup ?? true;
      return (tokens) =>
        tokens.map((t, i) => {
          let s = t;
          if (i !== 0) s = s.startsWith(prefix) ? s.slice(prefix.length) : ' ' + s;
          return cleanup ? cleanupTokenization(s) : s;
        });
    }
    case 'ByteLevel':
      return (tokens) => {
        const bytes: number[] = [];
        for (const t of tokens) {
          const mapped: number[] = [];
          let ok = true;
          for (const c of t) {
            const b = CHAR_TO_BYTE.get(c);
            if (b === undefined) {
              ok = false;
              break;
            }
            mapped.push(b);
          }
          // A token with chars outside the byte alphabet (an added token) is kept as its own UTF-8.
          bytes.push(...(ok ? mapped : Buffer.from(t, 'utf8')));
        }
        return [utf8DecodeLossy(Uint8Array.from(bytes))];
      };
    case 'Metaspace': {
      const replacement = String(cfg.replacement ?? '\u2581');
      const scheme: string = cfg.prepend_scheme ?? (cfg.add_prefix_space === false ? 'never' : 'always');
      return (tokens) =>
        tokens.map((t, i) => {
          let out = '';
          for (const c of t) {
            if (c === replacement) {
              if (!(i === 0 && scheme !== 'never')) out += ' ';
            } else out += c;
          }
          return out;
        });
    }
    case 'BPEDecoder': {
      const suffix = String(cfg.suffix ?? '</w>');
      return (tokens) => tokens.map((t, i) => t.replaceAll(suffix, i === tokens.length - 1 ? '' : ' '));
    }
    case 'Replace': {
      const pat = patternFrom(cfg.pattern, at);
      const content = String(cfg.content ?? '');
      return (tokens) =>
        tokens.map((t) =>
          pat(t)
            .map(([s, e, m]) => (m ? content : t.slice(s, e)))
            .join(''),
        );
    }
    case 'ByteFallback':
      return (tokens) => {
        const out: string[] = [];
        let pending: number[] = [];
        const flush = () => {
          if (pending.length === 0) return;
          const bytes = Uint8Array.from(pending);
          const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
          // Invalid byte runs become one U+FFFD per byte, as the Rust decoder does.
          let valid = true;
          try {
            new TextDecoder('utf-8', { fatal: true }).decode(bytes);
          } catch {
            valid = false;
          }
          if (valid) out.push(text);
          else for (let k = 0; k < pending.length; k++) out.push('\ufffd');
          pending = [];
        };
        for (const t of tokens) {
          const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
          if (m) pending.push(parseInt(m[1], 16));
          else {
            flush();
            out.push(t);
          }
        }
        flush();
        return out;
      };
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'Strip': {
      const content = String(cfg.content ?? ' ');
      const start = Number(cfg.start ?? 0);
      const stop = Number(cfg.stop ?? 0);
      return (tokens) =>
        tokens.map((t) => {
          const cs = Array.from(t);
          let a = 0;
          for (let k = 0; k < start && a < cs.length && cs[a] === content; k++) a++;
          let b = cs.length;
          for (let k = 0; k < stop && b > a && cs[b - 1] === content; k++) b--;
          return cs.slice(a, b).join('');
        });
    }
    case 'CTC': {
      const pad = String(cfg.pad_token ?? '<pad>');
      const delim = String(cfg.word_delimiter_token ?? '|');
      const cleanup = cfg.cleanup ?? true;
      return (tokens) => {
        const dedup = tokens.filter((t, i) => i === 0 || t !== tokens[i - 1]);
        return dedup
          .filter((t) => t !== pad)
          .map((t) => {
            let s = t.replaceAll(delim, ' ');
            if (cleanup) s = cleanupTokenization(s).replaceAll(delim, ' ');
            return s;
          });
      };
    }
    case 'Sequence': {
      const parts = (cfg.decoders as Json[])
        .map((d, i) => buildDecoder(d, `${where}: decoders[${i}]`))
        .filter((d): d is Decoder => d !== null);
      return (tokens) => parts.reduce((t, d) => d(t), tokens);
    }
    default:
      throw new Error(`${where}: unsupported decoder type '${cfg.type}'`);
  }
}
