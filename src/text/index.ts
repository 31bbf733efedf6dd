// Public entry of the text layer: Hugging Face tokenizers from tokenizer.json, and tweet normalisation.
export { Tokenizer, type AddedToken, type EncodeOptions, type DecodeOptions, type Encoding } from './tokenizer.js';
export type { TruncationStrategy, Direction } from './encoding.js';
export {
  normalizeTweet,
  normalizeTweetLight,
  tweetTokenize,
  unescapeHtmlEntities,
  type TweetNormalizeOptions,
} from './tweet-normalize.js';
