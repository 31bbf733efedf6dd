// tandem's public entry: the layers as namespaces (import deeper paths for single modules).
export * as tensor from './tensor/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as text from './text/index.js';
export * as vision from './vision/index.js';
export * as multimodal from './multimodal/index.js';
export * as objectives from './objectives/index.js';
export * as evaluation from './eval/index.js';
export { tandemEnvironmentCommand, processSetupEnv } from './runtime/setup-env.js';
export { runExperiment, openRun, type ExperimentConfig } from './train/experiment.js';
export { Trainer } from './train/trainer.js';
export { PAPER, PRESETS, DEFAULT_PRESET, resolvePreset, type PresetName } from './train/defaults.js';
export { loadDataset, FORMAT_NAMES } from './data/formats/index.js';
export { resolveModelFolder } from './io/hub.js';
export { openCheckpoint, readSafetensors, writeSafetensors } from './io/safetensors.js';
export { loadSafetensorsFile, saveTensors } from './io/tensors.js';
export { familyFor } from './models/family.js';
