// The text length a recipe trains with. The paper truncates texts to 128 tokens (40 for ViLT); a checkpoint
// may allow fewer positions (CLIP 77, SigLIP 64, small test models), and RoBERTa-style models lose
// pad_token_id + 1 of theirs to the position offset (BERTweet: 130 - 2 = 128). The default is the smaller of the
// paper's length and the model's; a length asked for above the model's limit is refused before any data is read.
import type { RecipeConfig } from './types.js';

export const PAPER_MAX_LENGTH = 128;
export const PAPER_VILT_MAX_LENGTH = 40;

// Families whose position ids start at pad_token_id + 1 (transformers' create_position_ids_from_input_ids).
const PADDING_OFFSET_TYPES = new Set(['roberta', 'bertweet', 'xlm-roberta']);

export interface TextLimit {
  /** The most tokens (special tokens included) the model's position embeddings take. */
  limit: number;
  /** Where the number comes from, for messages: 'text_config max_position_embeddings 130 - 2 (RoBERTa offset)'. */
  source: string;
}

function section(rc: RecipeConfig, key: string): Record<string, unknown> | undefined {
  const v = rc[key];
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The text model's config inside a recipe config, and the path naming it. */
function textConfig(rc: RecipeConfig): { cfg: Record<string, unknown>; where: string } | null {
  const text = section(rc, 'text_config');
  if (text) return { cfg: text, where: 'text_config' };
  const model = section(rc, 'model_config');
  if (!model) return null;
  // CLIP, SigLIP, BLIP nest the text tower; ViLT and LXMERT keep it at the top.
  const nested = section(model as RecipeConfig, 'text_config');
  return nested ? { cfg: nested, where: 'model_config.text_config' } : { cfg: model, where: 'model_config' };
}

/** The model's text limit from its recipe config, or null when the config names none. */
export function textLimit(rc: RecipeConfig): TextLimit | null {
  const t = textConfig(rc);
  if (!t) return null;
  const max = t.cfg.max_position_embeddings;
  if (typeof max !== 'number' || !Number.isInteger(max) || max <= 0) return null;
  const type = typeof t.cfg.model_type === 'string' ? t.cfg.model_type : '';
  if (PADDING_OFFSET_TYPES.has(type)) {
    const pad = typeof t.cfg.pad_token_id === 'number' ? t.cfg.pad_token_id : 1;
    return {
      limit: max - (pad + 1),
      source: `${t.where}.max_position_embeddings ${max} - ${pad + 1} (the ${type} position offset)`,
    };
  }
  return { limit: max, source: `${t.where}.max_position_embeddings ${max}` };
}

/** Thrown when an explicit --max-length exceeds what the model takes. */
export class MaxLengthError extends Error {
  override name = 'MaxLengthError';
}

/**
 * The max length to train with: `requested` when given (refused above the model's limit, naming both numbers),
 * else min(the paper's 128 / 40 for ViLT, the model's limit). `note` says how the number was chosen.
 */
export function resolveMaxLength(rc: RecipeConfig, requested?: number): { maxLength: number; note: string } {
  const limit = textLimit(rc);
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1)
      throw new MaxLengthError(`--max-length: expected a positive integer, got ${requested}`);
    if (limit && requested > limit.limit) {
      throw new MaxLengthError(
        `--max-length ${requested} is more than the model takes: ${limit.limit} tokens (${limit.source})`,
      );
    }
    return { maxLength: requested, note: `max length ${requested} (--max-length)` };
  }
  const paper = rc.recipe === 'vilt' ? PAPER_VILT_MAX_LENGTH : PAPER_MAX_LENGTH;
  const why = rc.recipe === 'vilt' ? "the paper's 40 for ViLT" : "the paper's 128";
  if (limit && limit.limit < paper) {
    return {
      maxLength: limit.limit,
      note: `max length ${limit.limit}: the model's limit (${limit.source}), below ${why}`,
    };
  }
  return {
    maxLength: paper,
    note: `max length ${paper}: ${why}${limit ? ` (the model takes up to ${limit.limit})` : ''}`,
  };
}
