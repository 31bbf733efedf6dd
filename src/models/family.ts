// The contract every model family file (src/models/<family>.ts) exports as `family`, and the registry that
// picks a family from config.json's model_type.
import type { Module } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';
import type { TensorSource } from '../io/safetensors.js';
import type { Config } from './common.js';

export interface ModelFamily<M extends Module = Module> {
  /** Family name as in `--family` (for example 'bert', 'clip'). */
  readonly name: string;
  /** config.json model_type values this family reads. */
  readonly modelTypes: readonly string[];
  /** Builds the model described by config (with `architectures` choosing heads), randomly initialised. */
  build(config: Config, opts?: { where?: string }): M;
  /** Copies a checkpoint into the model (strict: names listed on any mismatch). */
  load(model: M, source: TensorSource): void;
  /**
   * Runs the forward pass in eval mode on named inputs (the names in the golden inputs.safetensors:
   * input_ids, attention_mask, token_type_ids, pixel_values, pixel_mask, visual_feats, visual_pos, ...)
   * and returns every output under the reference's names (last_hidden_state, pooler_output, logits,
   * hidden_states.<i>, text_embeds, ...).
   */
  forwardNamed(model: M, inputs: Map<string, Tensor>): Map<string, Tensor>;
}

/** model_type -> family file (loaded lazily: `import('./<file>.js')` must export `family`). */
const FAMILY_FILES: Record<string, string> = {
  bert: 'bert',
  roberta: 'roberta',
  bertweet: 'roberta',
  'xlm-roberta': 'xlm-roberta',
  vit: 'vit',
  deit: 'vit',
  clip: 'clip',
  siglip: 'siglip',
  vilt: 'vilt',
  lxmert: 'lxmert',
  blip: 'blip',
};

export const SUPPORTED_MODEL_TYPES = Object.keys(FAMILY_FILES);

/** The family for a model_type (or a family name given by --family). */
export async function familyFor(modelTypeOrFamily: string, where = 'config.json'): Promise<ModelFamily> {
  const file = FAMILY_FILES[modelTypeOrFamily] ?? Object.values(FAMILY_FILES).find((f) => f === modelTypeOrFamily);
  if (!file)
    throw new Error(
      `${where}: model_type "${modelTypeOrFamily}" is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
    );
  const mod = (await import(`./${file}.js`)) as { family?: ModelFamily };
  if (!mod.family) throw new Error(`src/models/${file}.ts does not export a model family`);
  return mod.family;
}
