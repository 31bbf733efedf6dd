// The unimodal towers a multimodal recipe is built from, as each family exposes them: a text tower (BERT,
// RoBERTa, XLM-R) and a vision tower (ViT/DeiT, CLIP's and SigLIP's vision transformers). A tower adapter is
// stateless and works on the family's own module, so parameter names stay the checkpoint's.
import type { Module } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';
import type { TensorSource } from '../io/safetensors.js';
import type { Config } from './common.js';

export interface TextTowerInputs {
  input_ids: Tensor;
  attention_mask: Tensor;
  token_type_ids?: Tensor;
}

export interface TowerStates {
  /** [B, L, hidden] the last layer's token states. */
  last_hidden_state: Tensor;
  /** [B, width] the family's pooled output. */
  pooler_output: Tensor;
}

interface TowerBase<M extends Module> {
  /** config.json model_type values this tower reads. */
  readonly modelTypes: readonly string[];
  /** Builds the tower from a model's config.json (the family's Hugging Face initialisation). */
  build(config: Config, where: string): M;
  /** Copies a checkpoint's tower weights into the module (heads and other towers skipped). */
  load(model: M, source: TensorSource): void;
  /** Width of the token states. */
  hiddenSize(model: M): number;
  /** Width of the pooled output. */
  pooledWidth(model: M): number;
}

export interface TextTower<M extends Module = Module> extends TowerBase<M> {
  forward(model: M, text: TextTowerInputs): TowerStates;
}

export interface VisionTower<M extends Module = Module> extends TowerBase<M> {
  /** Patch size [height, width] in pixels. */
  patchSize(model: M): [number, number];
  /** Tokens before the patches in the states ([CLS], DeiT's distillation token; SigLIP has none). */
  prefixTokens(model: M): number;
  forward(model: M, pixelValues: Tensor): TowerStates;
}
