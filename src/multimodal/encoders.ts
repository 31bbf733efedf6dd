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
import { tensor, type Device, type Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import { openModelWeights, readModelConfig } from '../io/model-folder.js';
import type { TensorSource } from '../io/safetensors.js';
import type { Config } from '../models/common.js';
import type { TextTower, TextTowerInputs, TowerStates, VisionTower } from '../models/towers.js';
import { textTower as bertTower, type BertModel } from '../models/bert.js';
import { textTower as robertaTower } from '../models/roberta.js';
import { textTower as xlmRobertaTower } from '../models/xlm-roberta.js';
import { visionTower as vitTower, type ViTModel } from '../models/vit.js';
import { visionTower as clipTower, type CLIPVisionTransformer } from '../models/clip.js';
import { visionTower as siglipTower, type SiglipVisionTransformer } from '../models/siglip.js';

// The towers a recipe may be built from, by model_type (a new family adds its tower here).
const TEXT_TOWERS: readonly TextTower<BertModel>[] = [bertTower, robertaTower, xlmRobertaTower];
const VISION_TOWERS: readonly VisionTower<Module>[] = [vitTower, clipTower, siglipTower];

export const TEXT_MODEL_TYPES: readonly string[] = TEXT_TOWERS.flatMap((t) => t.modelTypes);
export const IMAGE_MODEL_TYPES: readonly string[] = VISION_TOWERS.flatMap((t) => t.modelTypes);

export type TextEncoder = BertModel;
export type ImageEncoder = ViTModel | CLIPVisionTransformer | SiglipVisionTransformer;

// Which tower adapter built each encoder module.
const textTowers = new WeakMap<Module, TextTower<BertModel>>();
const visionTowers = new WeakMap<Module, VisionTower<Module>>();

/** Reads a model folder's config.json and opens its weights (the caller closes the source). */
export function readFolder(dir: string): { config: Config; open: () => TensorSource } {
  return { config: readModelConfig(dir), open: () => openModelWeights(dir) };
}

/** Runs fn with a model folder's weights open, closing them after. */
export function withWeights<T>(dir: string, fn: (s: TensorSource) => T): T {
  const s = openModelWeights(dir);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

function towerFor<T extends { modelTypes: readonly string[] }>(
  towers: readonly T[],
  config: Config,
  where: string,
  allowed: readonly string[],
): T {
  const mt = config.model_type;
  const tower = towers.find((t) => typeof mt === 'string' && t.modelTypes.includes(mt));
  if (!tower)
    throw new Error(
      `${where}: "model_type": ${JSON.stringify(mt)} is not supported here (supported: ${allowed.join(', ')})`,
    );
  return tower;
}

function adapterOf<A>(map: WeakMap<Module, A>, model: Module, kind: string): A {
  const a = map.get(model);
  if (!a) throw new Error(`${kind} encoder: ${model.constructor.name} was not built by build${kind}Encoder`);
  return a;
}

/** A text encoder (with pooler) from a BERT-style config, HF-initialised. */
export function buildTextEncoder(config: Config, where: string): TextEncoder {
  const tower = towerFor(TEXT_TOWERS, config, where, TEXT_MODEL_TYPES);
  const model = tower.build(config, where);
  textTowers.set(model, tower);
  return model;
}

/** Copies a text checkpoint into the encoder (heads skipped; a missing pooler keeps its fresh weights). */
export function loadTextEncoder(model: TextEncoder, source: TensorSource): void {
  adapterOf(textTowers, model, 'Text').load(model, source);
}

/** Whether the text encoder counts positions from pad_token_id + 1 (RoBERTa) rather than from 0 (BERT). */
export function positionOffset(model: TextEncoder): number {
  return model.embeddings.positions === 'padding-offset' ? model.config.pad_token_id + 1 : 0;
}

/** The text tower's last-layer states and pooled output (tanh(dense(first token state))). */
export function textTowerStates(model: TextEncoder, text: TextTowerInputs): TowerStates {
  return adapterOf(textTowers, model, 'Text').forward(model, text);
}

/** The text representation: the pooled output [B, hidden]. */
export function textPooled(model: TextEncoder, text: TextTowerInputs): Tensor {
  return textTowerStates(model, text).pooler_output;
}

/** The first-token state of the last layer and the pooled output (tanh(dense(first-token state))), [B, hidden] each. */
export function textStates(model: TextEncoder, text: TextTowerInputs): { first: Tensor; pooled: Tensor } {
  const out = textTowerStates(model, text);
  return { first: out.last_hidden_state.select(1, 0), pooled: out.pooler_output };
}

/** An image encoder from a config (ViT/DeiT, or the vision tower of CLIP/SigLIP), HF-initialised. */
export function buildImageEncoder(config: Config, where: string): ImageEncoder {
  const tower = towerFor(VISION_TOWERS, config, where, IMAGE_MODEL_TYPES);
  const model = tower.build(config, where) as ImageEncoder;
  visionTowers.set(model, tower);
  return model;
}

/** Copies an image checkpoint into the encoder as its family loads its vision tower (strict). */
export function loadImageEncoder(model: ImageEncoder, source: TensorSource): void {
  adapterOf(visionTowers, model, 'Image').load(model, source);
}

/** Width of the image encoder's pooled output. */
export function imageWidth(model: ImageEncoder): number {
  return adapterOf(visionTowers, model, 'Image').pooledWidth(model);
}

/** Width of the image encoder's token states. */
export function imageTokenWidth(model: ImageEncoder): number {
  return adapterOf(visionTowers, model, 'Image').hiddenSize(model);
}

/** Whether the image encoder's first token is a [CLS] token (ViT, DeiT, CLIP) rather than a patch (SigLIP). */
export function imageHasClsToken(model: ImageEncoder): boolean {
  return adapterOf(visionTowers, model, 'Image').prefixTokens(model) > 0;
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
  const tower = adapterOf(visionTowers, model, 'Image');
  const [, , h, w] = pixelValues.shape as [number, number, number, number];
  const [ph, pw] = tower.patchSize(model);
  const pixels = pixelValues.dtype === 'float32' ? pixelValues : pixelValues.to('float32');
  const out = tower.forward(model, pixels);
  return {
    pooled: out.pooler_output,
    states: out.last_hidden_state,
    skip: tower.prefixTokens(model),
    grid: [Math.floor(h / ph), Math.floor(w / pw)],
  };
}

/** Rows of a tensor picked by index (for mismatched pairs). */
export function pickRows(t: Tensor, index: number[]): Tensor {
  return t.indexSelect(0, indexTensor(index, t.device));
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
