// `tandem normalize`: BERTweet's tweet normalisation as the paper's code applies it, one normalised text per
// line, so the preprocessing can be checked against Python (as `tokenize` exposes the tokenizer).
import { readFileSync } from 'node:fs';
import { normalizeTweet, tweetTokenizerRules, TWEET_TOKENIZERS } from '../../text/tweet-normalize.js';
import { CliError, EXIT } from '../args.js';
import { defineCommand, parseCommand } from '../options.js';

export const NORMALIZE = defineCommand({
  name: 'normalize',
  usage: [`tandem normalize [--emoji keep|demojize] [--tweet-tokenizer ${TWEET_TOKENIZERS.join('|')}] (TEXT... | -)`],
  description: `Prints each TEXT normalised as BERTweet's normalizeTweet does: NLTK's TweetTokenizer, user mentions -> @USER,
links -> HTTPURL, ’ -> ', … -> ..., contractions split, one-character emoji tokens named as the emoji package
2.2.0 names them. A TEXT of '-' reads one text per line from stdin.`,
  options: {
    emoji: {
      type: 'enum',
      choices: ['keep', 'demojize'],
      default: 'demojize',
      help: "name one-character emoji tokens, ':face_with_tears_of_joy:'",
    },
    'tweet-tokenizer': {
      type: 'enum',
      choices: TWEET_TOKENIZERS,
      default: 'nltk-2020',
      help: "the TweetTokenizer rules: nltk-2020 (the paper's code embeds it) or nltk-3.8",
    },
  },
  positionals: { name: 'TEXT', min: 1 },
});

export const specs = [NORMALIZE];

function readStdinLines(): string[] {
  const lines = readFileSync(0, 'utf8').split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(NORMALIZE, argv);
  if (!a) return EXIT.ok;
  const tokenizer = tweetTokenizerRules(a.values['tweet-tokenizer']);
  const texts = a.positionals.flatMap((t) => (t === '-' ? readStdinLines() : [t]));
  if (texts.length === 0) throw new CliError('no TEXT given (stdin was empty)');
  const out = texts.map((t) => normalizeTweet(t, { emoji: a.values.emoji, tokenizer }));
  process.stdout.write(out.map((l) => `${l}\n`).join(''));
  return EXIT.ok;
}
