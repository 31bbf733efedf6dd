// Training defaults, written once: the paper's settings (Sánchez Villegas et al. 2024, from its released code)
// and tandem's optimisation preset. The CLI's option table and the library read them from here.
import { PAPER_WEIGHTS } from '../objectives/index.js';
import { DEFAULT_DROPOUT } from '../multimodal/index.js';
import type { ScheduleKind } from '../optim/index.js';
import { DEFAULT_SEED as DEFAULT_SPLIT_SEED } from '../data/splits.js';

export { PAPER_WEIGHTS, DEFAULT_DROPOUT };

/** The paper's settings that no preset changes (AdamW; batch 16 for MVSA, MICD and MSD, 8 for TIR and MHP). */
export const PAPER = {
  lr: 1e-5,
  weightDecay: 2.5e-4,
  batchSize: 16,
  maxLength: 128,
  dropout: DEFAULT_DROPOUT,
  itcWeight: PAPER_WEIGHTS.itc,
  itmWeight: PAPER_WEIGHTS.itm,
  lossWeights: PAPER_WEIGHTS.mode,
  classWeights: 'balanced',
} as const;

/** tandem's own defaults where the paper has no setting to copy. */
export const TRAIN_DEFAULTS = {
  epochs: 10,
  gradAccumulation: 1,
  seed: 42,
  splitSeed: DEFAULT_SPLIT_SEED,
  metric: 'f1_macro',
  saveEvery: 0,
  itcQueueSize: 0,
} as const;

/** Posts per forward pass when a trained run evaluates or predicts. */
export const PREDICT_BATCH_SIZE = 32;

/** Which parameters weight decay skips: none (the paper's code, as PyTorch's AdamW given all parameters), or
 * biases and normalisation weights (the usual choice for fine-tuning transformers). */
export type DecayExempt = 'none' | 'bias-norm';
export const DECAY_EXEMPT: readonly DecayExempt[] = ['none', 'bias-norm'];

/** The optimisation settings a preset decides. */
export interface OptimisationPreset {
  schedule: ScheduleKind;
  /** Fraction of the run's optimiser steps spent warming the learning rate up from 0. */
  warmupRatio: number;
  /** Gradient-norm clipping threshold, null = off. */
  maxGradNorm: number | null;
  decayExempt: DecayExempt;
  /** Epochs without dev improvement before stopping, 0 = never stop early. */
  patience: number;
}

export const PRESETS = {
  /** The paper's code: a constant learning rate, no clipping, decay on every parameter, every epoch run. */
  paper: { schedule: 'constant', warmupRatio: 0, maxGradNorm: null, decayExempt: 'none', patience: 0 },
  /** tandem's earlier defaults: linear warm-up over 10% of the steps then linear decay, clipping at 1.0, no decay
   * on biases and LayerNorm, early stopping after 3 epochs without dev improvement. */
  tandem: { schedule: 'linear', warmupRatio: 0.1, maxGradNorm: 1.0, decayExempt: 'bias-norm', patience: 3 },
} as const satisfies Record<string, OptimisationPreset>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
export const DEFAULT_PRESET: PresetName = 'paper';

/** A preset's settings with any explicitly given ones on top. */
export function resolvePreset(name: PresetName, overrides: Partial<OptimisationPreset> = {}): OptimisationPreset {
  const out: OptimisationPreset = { ...PRESETS[name] };
  for (const [k, v] of Object.entries(overrides))
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}
