// `tandem tokenize`: tokenize texts with a Hugging Face tokenizer.json and print ids, tokens and offsets, for
// debugging inputs and checking a port against Python.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Tokenizer, type EncodeOptions } from '../../text/tokenizer.js';
import { normalizeTweet } from '../../text/tweet-normalize.js';
import { CliError, EXIT } from '../args.js';
import { defineCommand, parseCommand } from '../options.js';

export const TOKENIZE = defineCommand({
  name: 'tokenize',
  usage: ['tandem tokenize --tokenizer <tokenizer.json|model dir|Hub id> [options] TEXT...'],
  description: `Tokenizes each TEXT as the Hugging Face \`tokenizers\` library does (WordPiece, BPE, Unigram; normalizers,
pre-tokenizers, special tokens, truncation, padding). Offsets are in characters (code points) of the text.
A TEXT of '-' reads one text per line from stdin.`,
  options: {
    tokenizer: {
      type: 'string',
      required: true,
      placeholder: 'T',
      help: 'tokenizer.json, a model folder holding one (tokenizer_config.json and special_tokens_map.json are read too), or a Hub model id (downloaded to the HF cache)',
    },
    'max-length': { type: 'int', min: 0, help: 'truncate to N tokens in total, special tokens included' },
    padding: {
      type: 'enum',
      choices: ['max_length', 'longest', 'none'],
      default: 'none',
      help: 'max_length (pad to --max-length), longest (pad to the longest text) or none',
    },
    'pad-token': { type: 'string', placeholder: 'TOK', help: 'the padding token when the tokenizer does not name one' },
    pair: { type: 'string', placeholder: 'TEXT', help: 'encode every TEXT together with this second sequence' },
    'no-special-tokens': { type: 'boolean', help: 'do not add [CLS]/[SEP], <s>/</s>, ...' },
    'normalize-tweets': {
      type: 'boolean',
      help: "first normalise as BERTweet and the paper's code do (see tandem normalize)",
    },
    decode: { type: 'boolean', help: 'also print the ids decoded back to text (special tokens skipped)' },
    json: {
      type: 'boolean',
      help: 'one JSON object per text and line: ids, tokens, offsets, attention_mask, type_ids (and decoded with --decode)',
    },
  },
  positionals: { name: 'TEXT', min: 1 },
  footer: 'Exit codes: 0 ok, 1 failure, 2 bad usage or a tokenizer that cannot be used.',
});

export const specs = [TOKENIZE];

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'config.json'];

async function loadTokenizer(spec: string): Promise<Tokenizer> {
  const wrap = (f: () => Tokenizer): Tokenizer => {
    try {
      return f();
    } catch (e) {
      throw new CliError((e as Error).message, EXIT.usage);
    }
  };
  if (existsSync(spec)) {
    return wrap(() => (statSync(spec).isDirectory() ? Tokenizer.fromModelDir(spec) : Tokenizer.fromFile(spec)));
  }
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(spec))
    throw new CliError(`--tokenizer: '${spec}' is neither an existing file or folder nor a Hub model id`);
  let hub: { resolveModelFolder?: (id: string, opts?: { allowPatterns?: string[] }) => Promise<string> };
  try {
    const modulePath = '../../io/hub.js';
    hub = (await import(modulePath)) as typeof hub;
  } catch {
    throw new CliError(
      `--tokenizer: '${spec}' is not a local path, and Hub ids need src/io/hub.ts, which this build lacks`,
      EXIT.failure,
    );
  }
  if (typeof hub.resolveModelFolder !== 'function')
    throw new CliError(`--tokenizer: the Hub module has no resolveModelFolder; cannot resolve '${spec}'`, EXIT.failure);
  let folder: string;
  try {
    folder = await hub.resolveModelFolder(spec, { allowPatterns: TOKENIZER_FILES });
  } catch (e) {
    throw new CliError(`--tokenizer: ${(e as Error).message}`, EXIT.failure);
  }
  return wrap(() => Tokenizer.fromModelDir(folder));
}

function readStdinLines(): string[] {
  const text = readFileSync(0, 'utf8');
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(TOKENIZE, argv);
  if (!a) return EXIT.ok;
  const spec = a.values.tokenizer;
  const maxLength = a.values['max-length'];
  const paddingFlag = a.values.padding;
  if (paddingFlag === 'max_length' && maxLength === undefined)
    throw new CliError('--padding max_length needs --max-length N');
  let texts = a.positionals.flatMap((t) => (t === '-' ? readStdinLines() : [t]));
  if (texts.length === 0) throw new CliError('no TEXT given (stdin was empty)');
  const tweets = a.values['normalize-tweets'] === true;
  if (tweets) texts = texts.map((t) => normalizeTweet(t));
  const pair = a.values.pair === undefined ? undefined : tweets ? normalizeTweet(a.values.pair) : a.values.pair;

  const tok = await loadTokenizer(spec);
  const opts: EncodeOptions = {
    addSpecialTokens: a.values['no-special-tokens'] !== true,
    maxLength,
    padding: paddingFlag === 'none' ? false : paddingFlag,
    padToken: a.values['pad-token'],
  };
  let encs;
  try {
    encs = tok.encodeBatch(
      texts.map((t): string | [string, string] => (pair === undefined ? t : [t, pair])),
      opts,
    );
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.usage);
  }
  const out: string[] = [];
  encs.forEach((e, i) => {
    const decoded = a.values.decode ? tok.decode(e.ids, { skipSpecialTokens: true }) : undefined;
    if (a.values.json) {
      const obj: Record<string, unknown> = {
        ids: e.ids,
        tokens: e.tokens,
        offsets: e.offsets,
        attention_mask: e.attention_mask,
        type_ids: e.type_ids,
      };
      if (decoded !== undefined) obj.decoded = decoded;
      out.push(JSON.stringify(obj));
      return;
    }
    out.push(
      `text ${i + 1}: ${JSON.stringify(texts[i])}${pair !== undefined ? ` + ${JSON.stringify(pair)}` : ''} -> ${e.ids.length} tokens`,
    );
    const idW = Math.max(2, ...e.ids.map((x) => String(x).length));
    const tokW = Math.max(5, ...e.tokens.map((t) => JSON.stringify(t).length));
    out.push(`  ${'#'.padStart(4)}  ${'id'.padStart(idW)}  ${'token'.padEnd(tokW)}  offsets  type  mask`);
    e.ids.forEach((id, k) => {
      const [s, t] = e.offsets[k];
      out.push(
        `  ${String(k).padStart(4)}  ${String(id).padStart(idW)}  ${JSON.stringify(e.tokens[k]).padEnd(tokW)}  ${`${s}:${t}`.padEnd(7)}  ${String(e.type_ids[k]).padStart(4)}  ${String(e.attention_mask[k]).padStart(4)}`,
      );
    });
    if (decoded !== undefined) out.push(`  decoded: ${JSON.stringify(decoded)}`);
  });
  process.stdout.write(out.join('\n') + '\n');
  return EXIT.ok;
}
