// `tandem forward` on a tandem run checkpoint (config.json with a "tandem" section, model_type "tandem"): the
// classifier's own outputs and those of each Hugging Face sub-model it holds, under documented names:
//   logits [B, numLabels], text_embeds / image_embeds (the ITC embeddings), pair_embeds (the fused pair the
//   heads read); text_model.<output> for the text encoder and vision_model.<output> for the image encoder
//   (transformers' prefixes in its two-tower models), <family>.<output> for a single-stream model (vilt.*,
//   clip.*, ...), each <output> under the family's transformers name (last_hidden_state, pooler_output, ...).
import { familyFor, type ModelFamily } from '../../models/family.js';
import type { Module } from '../../nn/index.js';
import type { MultimodalClassifier, PostBatch } from '../../multimodal/types.js';
import { noGrad, type Tensor } from '../../tensor/index.js';

const TEXT_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'];
const IMAGE_INPUTS = ['pixel_values', 'pixel_mask'];

/** Which config describes a sub-model, the inputs it reads and the prefix of its outputs. */
function roleOf(child: string): { config: string; inputs: string[]; prefix?: string } {
  if (child === 'text_encoder') return { config: 'text_config', inputs: TEXT_INPUTS, prefix: 'text_model' };
  if (child === 'image_encoder') return { config: 'vision_config', inputs: IMAGE_INPUTS, prefix: 'vision_model' };
  return { config: 'model_config', inputs: [...TEXT_INPUTS, ...IMAGE_INPUTS] };
}

function pick(inputs: Map<string, Tensor>, names: string[]): Map<string, Tensor> {
  return new Map([...inputs].filter(([k]) => names.includes(k)));
}

/** The batch a classifier encodes, from named input tensors (distinct keys: every post its own text and image). */
function batchOf(inputs: Map<string, Tensor>): PostBatch {
  const need = (n: string) => {
    const t = inputs.get(n);
    if (!t)
      throw new Error(`inputs: a tandem checkpoint needs "${n}" (got: ${[...inputs.keys()].join(', ') || 'none'})`);
    return t;
  };
  const ids = need('input_ids');
  const pixels = need('pixel_values');
  const B = ids.size(0);
  if (pixels.size(0) !== B) throw new Error(`inputs: input_ids has ${B} rows but pixel_values ${pixels.size(0)}`);
  const long = (t: Tensor) => (t.dtype === 'int64' ? t : t.to('int64'));
  const mask = inputs.get('attention_mask');
  const types = inputs.get('token_type_ids');
  const pixelMask = inputs.get('pixel_mask');
  const rows = Array.from({ length: B }, (_, i) => String(i));
  return {
    size: B,
    ids: rows,
    text: {
      input_ids: long(ids),
      attention_mask: mask ? long(mask) : long(ids).mul(0).add(1),
      ...(types ? { token_type_ids: long(types) } : {}),
    },
    image: { pixel_values: pixels.to('float32'), ...(pixelMask ? { pixel_mask: long(pixelMask) } : {}) },
    textKeys: rows.map((r) => `text ${r}`),
    imageKeys: rows.map((r) => `image ${r}`),
  };
}

/** A sub-model of a classifier with the family that names its outputs. */
export interface SubModel {
  child: Module;
  family: ModelFamily;
  prefix: string;
  inputs: string[];
}

/** The Hugging Face sub-models of a classifier (its text and image encoders, or its single-stream model). */
export async function subModelsOf(model: MultimodalClassifier): Promise<SubModel[]> {
  const rc = model.recipeConfig() as Record<string, unknown>;
  const out: SubModel[] = [];
  for (const [name, child] of (model as unknown as Module).children()) {
    const role = roleOf(name);
    const config = rc[role.config] as Record<string, unknown> | undefined;
    if (!config || typeof config.model_type !== 'string') continue; // heads, projections, fusion layers
    const family = await familyFor(config.model_type, `config.json › tandem › ${role.config}`);
    out.push({ child, family, prefix: role.prefix ?? family.name, inputs: role.inputs });
  }
  return out;
}

/**
 * Every output of a tandem classifier and of its sub-models for the named inputs (call inside tidy). Returns
 * the outputs and notes on sub-models that could not run on these inputs alone (for example LXMERT, whose
 * region features the recipe computes).
 */
export function classifierForwardNamed(
  model: MultimodalClassifier,
  subModels: SubModel[],
  inputs: Map<string, Tensor>,
): { outputs: Map<string, Tensor>; notes: string[] } {
  model.eval();
  const outputs = new Map<string, Tensor>();
  const notes: string[] = [];
  const batch = batchOf(inputs);
  noGrad(() => {
    const enc = model.encode(batch);
    outputs.set('logits', model.classify(enc.pair));
    // (a one-modality baseline has no ITC embedding of the other side)
    const e = enc as Partial<typeof enc>;
    if (e.textEmbeds) outputs.set('text_embeds', e.textEmbeds);
    if (e.imageEmbeds) outputs.set('image_embeds', e.imageEmbeds);
    outputs.set('pair_embeds', enc.pair);
  });
  for (const s of subModels) {
    try {
      const named = noGrad(() => s.family.forwardNamed(s.child, pick(inputs, s.inputs)));
      for (const [k, t] of named) outputs.set(`${s.prefix}.${k}`, t);
    } catch (e) {
      notes.push(`${s.prefix}.*: not written (${(e as Error).message})`);
    }
  }
  return { outputs, notes };
}
