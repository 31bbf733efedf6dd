/**
 * The unimodal encoders the two-tower recipes (late fusion, MMBT, LXMERT's region features) are built from,
 * read from Hugging Face model folders or configs:
 * - text: BERT, RoBERTa / BERTweet, XLM-RoBERTa (any architecture of those families: task heads and
 *   pre-training heads of the checkpoint are dropped; the base model keeps its tanh pooler, which is freshly
 *   initialised when the checkpoint has none, as for RoBERTa's masked-LM checkpoints);
 * - image: ViT / DeiT, and the vision towers of CLIP and SigLIP (the text tower of those checkpoints is
 *   dropped after loading).
 * Parameter names inside each encoder are the checkpoints' own, so a run checkpoint reads like theirs under
 * the recipe's prefix (`text_encoder.encoder.layer.0...`, `image_encoder.embeddings...`).
 */
import { createHash } from 'node:crypto';
import { noGrad, tensor, type Device, type Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import { openModelWeights, readModelConfig } from '../io/model-folder.js';
import type { TensorSource } from '../io/safetensors.js';
import { loadCheckpointInto, type Config } from '../models/common.js';
import { BertModel, initBertWeights, loadPretrainedEncoder, readBertConfig, type BertConfig } from '../models/bert.js';
import { RobertaModel } from '../models/roberta.js';
import { XLMRobertaModel } from '../models/xlm-roberta.js';
import { family as vitFamily, readViTConfig, ViTModel } from '../models/vit.js';
import { CLIPModel, CLIPVisionTransformer, readCLIPConfig } from '../models/clip.js';
import { readSiglipConfig, SiglipModel, SiglipVisionTransformer } from '../models/siglip.js';

export const TEXT_MODEL_TYPES = ['bert', 'roberta', 'bertweet', 'xlm-roberta'] as const;
export const IMAGE_MODEL_TYPES = ['vit', 'deit', 'clip', 'siglip'] as const;

export type TextEncoder = BertModel;
export type ImageEncoder = ViTModel | CLIPVisionTransformer | SiglipVisionTransformer;

/** Reads a model folder's config.json and opens its weights (the caller closes the source). */
export function readFolder(dir: string): { config: Config; open: () => TensorSource } {
  return { config: readModelConfig(dir), open: () => openModelWeights(dir) };
}

function modelType(config: Config, where: string, allowed: readonly string[]): string {
  const mt = config.model_type;
  if (typeof mt !== 'string' || !allowed.includes(mt))
    throw new Error(
      `${where}: "model_type": ${JSON.stringify(mt)} is not supported here (supported: ${allowed.join(', ')})`,
    );
  return mt;
}

/** A text encoder (with pooler) from a BERT-style config, HF-initialised. */
export function buildTextEncoder(config: Config, where: string): TextEncoder {
  const mt = modelType(config, where, TEXT_MODEL_TYPES);
  const c: BertConfig = readBertConfig(config, where, mt === 'bert' ? {} : { pad_token_id: 1 });
  const model = mt === 'bert' ? new BertModel(c) : mt === 'xlm-roberta' ? new XLMRobertaModel(c) : new RobertaModel(c);
  initBertWeights(model, c.initializer_range);
  return model;
}

/** Copies a text checkpoint into the encoder (heads skipped; a missing pooler keeps its fresh weights). */
export function loadTextEncoder(model: TextEncoder, source: TensorSource): void {
  noGrad(() => loadPretrainedEncoder(model, source, model instanceof RobertaModel ? 'roberta' : 'bert'));
}

/** Whether the text encoder counts positions from pad_token_id + 1 (RoBERTa) rather than from 0 (BERT). */
export function positionOffset(model: TextEncoder): number {
  return model.embeddings.positions === 'padding-offset' ? model.config.pad_token_id + 1 : 0;
}

/** The first-token state of the last layer and the pooled output (tanh(dense(first-token state))), [B, hidden] each. */
export function textStates(
  model: TextEncoder,
  text: { input_ids: Tensor; attention_mask: Tensor; token_type_ids?: Tensor },
): { first: Tensor; pooled: Tensor } {
  const out = model.forward({
    input_ids: text.input_ids,
    attention_mask: text.attention_mask,
    token_type_ids: text.token_type_ids ?? null,
  });
  if (!out.pooler_output) throw new Error('text encoder: no pooler (the pooled output is needed)');
  return { first: out.last_hidden_state.select(1, 0), pooled: out.pooler_output };
}

/** The text representation: the pooled output (tanh(dense(first token state))) [B, hidden]. */
export function textPooled(
  model: TextEncoder,
  text: { input_ids: Tensor; attention_mask: Tensor; token_type_ids?: Tensor },
): Tensor {
  const out = model.forward({
    input_ids: text.input_ids,
    attention_mask: text.attention_mask,
    token_type_ids: text.token_type_ids ?? null,
  });
  return out.pooler_output!;
}

/**
 * An image encoder from a config (ViT/DeiT, or the vision tower of CLIP/SigLIP), HF-initialised. CLIP and
 * SigLIP are built whole (so the tower gets the family's own initialisation), then the tower is kept and the
 * rest freed.
 */
export function buildImageEncoder(config: Config, where: string): ImageEncoder {
  const mt = modelType(config, where, IMAGE_MODEL_TYPES);
  if (mt === 'vit' || mt === 'deit') return new ViTModel(readViTConfig(config, where));
  const whole: CLIPModel | SiglipModel =
    mt === 'clip' ? new CLIPModel(readCLIPConfig(config, where)) : new SiglipModel(readSiglipConfig(config, where));
  const tower = whole.vision_model;
  const keepSet = new Set(tower.parameters());
  for (const t of whole.parameters()) if (!keepSet.has(t)) t.dispose();
  return tower;
}

/**
 * Copies an image checkpoint into the encoder: ViT/DeiT as the vit family loads it; for a CLIP/SigLIP tower
 * the checkpoint's `vision_model.*` tensors (strict: a missing one is named), the rest skipped.
 */
export function loadImageEncoder(model: ImageEncoder, source: TensorSource): void {
  noGrad(() => {
    if (model instanceof ViTModel) vitFamily.load(model, source);
    else
      loadCheckpointInto(model, source, {
        rename: (n) =>
          n.startsWith('vision_model.') && !n.endsWith('position_ids') ? n.slice('vision_model.'.length) : null,
      });
  });
}

/** Width of the image encoder's pooled output. */
export function imageWidth(model: ImageEncoder): number {
  if (model instanceof ViTModel) return model.pooler ? model.config.pooler_output_size : model.config.hidden_size;
  return model.config.hidden_size;
}

/** Width of the image encoder's token states. */
export function imageTokenWidth(model: ImageEncoder): number {
  return model.config.hidden_size;
}

/** Whether the image encoder's first token is a [CLS] token (ViT, DeiT, CLIP) rather than a patch (SigLIP). */
export function imageHasClsToken(model: ImageEncoder): boolean {
  return !(model instanceof SiglipVisionTransformer);
}

function patchSize(model: ImageEncoder): [number, number] {
  if (model instanceof ViTModel) return model.config.patch_size;
  const p = model.config.patch_size;
  return [p, p];
}

export interface ImageStates {
  /** [B, D] pooled output (ViT: pooler_output, or the final-LayerNorm [CLS] state when the checkpoint has no pooler). */
  pooled: Tensor;
  /** [B, skip + rows*cols, D'] the token states. */
  states: Tensor;
  /** Tokens before the patches ([CLS], DeiT's distillation token). */
  skip: number;
  grid: [number, number];
}

export function imageStates(model: ImageEncoder, pixelValues: Tensor): ImageStates {
  const [, , h, w] = pixelValues.shape as [number, number, number, number];
  const [ph, pw] = patchSize(model);
  const grid: [number, number] = [Math.floor(h / ph), Math.floor(w / pw)];
  const pixels = pixelValues.dtype === 'float32' ? pixelValues : pixelValues.to('float32');
  if (model instanceof ViTModel) {
    const out = model.forward(pixels);
    const skip = model.config.model_type === 'deit' ? 2 : 1;
    return {
      pooled: out.pooler_output ?? out.last_hidden_state.select(1, 0),
      states: out.last_hidden_state,
      skip,
      grid,
    };
  }
  if (model instanceof CLIPVisionTransformer) {
    const out = model.forward(pixels);
    return { pooled: out.pooler_output, states: out.last_hidden_state, skip: 1, grid };
  }
  const out = model.forward(pixels);
  return { pooled: out.pooler_output!, states: out.last_hidden_state, skip: 0, grid };
}

/** Rows of a tensor picked by index (for mismatched pairs). */
export function pickRows(t: Tensor, index: number[]): Tensor {
  return t.indexSelect(0, indexTensor(index, t.device as Device));
}

export function indexTensor(index: number[], device: Device): Tensor {
  return tensor(
    BigInt64Array.from(index, (i) => BigInt(i)),
    { dtype: 'int64', device },
  );
}

/**
 * A stable identity of an encoder's weights: sha256 over its config and every parameter and buffer (names,
 * shapes, dtypes, bytes), for keys of on-disk feature caches.
 */
export function weightsKey(m: Module, config: unknown): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(config));
  const entries = [...m.stateDict()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, t] of entries) {
    h.update(`${name}:${t.dtype}:[${t.shape}]`);
    const c = t.device === 'cpu' && t.isContiguous() ? t : t.to('cpu').contiguous();
    h.update(c.bytes());
    if (c !== t) c.dispose();
  }
  return h.digest('hex');
}
