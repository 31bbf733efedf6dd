// `tandem normalize`: BERTweet's tweet normalisation as the paper's code applies it, one normalised text per
// line, so the preprocessing can be checked against Python (as `tokenize` exposes the tokenizer).
import { readFileSync } from 'node:fs';
import { normalizeTweet, tweetTokenizerRules, TWEET_TOKENIZERS } from '../../text/tweet-normalize.js';
import { CliError, EXIT, parse } from '../args.js';

const HELP = `Usage: tandem normalize [--emoji keep|demojize] [--tweet-tokenizer ${TWEET_TOKENIZERS.join('|')}] (TEXT... | -)

Prints each TEXT normalised as BERTweet's normalizeTweet does: NLTK's TweetTokenizer, user mentions -> @USER,
links -> HTTPURL, ’ -> ', … -> ..., contractions split, one-character emoji tokens named as the emoji package
2.2.0 names them. A TEXT of '-' reads one text per line from stdin.

Options:
  --emoji keep|demojize      name one-character emoji tokens, ':face_with_tears_of_joy:' (default: demojize)
  --tweet-tokenizer R        nltk-2020 (default: the TweetTokenizer the paper's code embeds) or nltk-3.8
  -h, --help                 this text`;

function readStdinLines(): string[] {
  const lines = readFileSync(0, 'utf8').split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export async function run(argv: string[]): Promise<number> {
  const a = parse(argv, { emoji: { type: 'string' }, 'tweet-tokenizer': { type: 'string' } }, HELP);
  if (!a) return EXIT.ok;
  const emoji = a.values.emoji ?? 'demojize';
  if (emoji !== 'keep' && emoji !== 'demojize') throw new CliError(`--emoji expects keep or demojize, got '${emoji}'`);
  let tokenizer;
  try {
    tokenizer = tweetTokenizerRules(a.values['tweet-tokenizer'] ?? 'nltk-2020');
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const texts = a.positionals.flatMap((t) => (t === '-' ? readStdinLines() : [t]));
  if (texts.length === 0) throw new CliError(`no TEXT given\n\n${HELP}`);
  const out = texts.map((t) => normalizeTweet(t, { emoji, tokenizer }));
  process.stdout.write(out.map((l) => `${l}\n`).join(''));
  return EXIT.ok;
}
