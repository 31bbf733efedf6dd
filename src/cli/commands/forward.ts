// `tandem forward`: runs a model's forward pass on saved inputs and writes every output under the names
// transformers uses, so a checkpoint can be checked against another framework tensor by tensor.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_REVISION, resolveModelFolder, isRepoId } from '../../io/hub.js';
import { openModelWeights, readModelConfig } from '../../io/model-folder.js';
import { loadSafetensorsFile, saveTensors } from '../../io/tensors.js';
import { familyFor, SUPPORTED_MODEL_TYPES, type ModelFamily } from '../../models/family.js';
import type { Module } from '../../nn/index.js';
import { classifierFromConfig, loadClassifier, readRecipeConfig } from '../../multimodal/builder.js';
import { dispose, manualSeed, parseDevice, tidy, type Device, type Tensor } from '../../tensor/index.js';
import { classifierForwardNamed, subModelsOf } from './forward-run.js';
import { CliError, EXIT } from '../args.js';
import { defineCommand, parseCommand, type Values as ParsedValues } from '../options.js';

export const FORWARD = defineCommand({
  name: 'forward',
  usage: ['tandem forward --model <dir|Hub id> --inputs INPUTS.safetensors --out OUTPUTS.safetensors [options]'],
  description: `Loads a Hugging Face model folder (config.json + model.safetensors, or a sharded index), a Hub model id
(downloaded into the Hub cache; HF_HUB_OFFLINE=1 uses the cache only) or a tandem run checkpoint (runs/NAME,
runs/NAME/best), runs the forward pass in eval mode without gradients on the named tensors of INPUTS
(input_ids, attention_mask, token_type_ids, pixel_values, pixel_mask, visual_feats, visual_pos, labels, ... as
the model takes them) and writes every output under the reference's names (last_hidden_state, pooler_output,
hidden_states.<i>, logits, text_embeds, ...). A run checkpoint writes the classifier's logits, text_embeds,
image_embeds and pair_embeds, and its sub-models' outputs as text_model.*, vision_model.* or <family>.*
(vilt.last_hidden_state, ...). A folder without weights (examples/tiny-models/*) runs with --init random.`,
  options: {
    model: { type: 'string', required: true, placeholder: 'M', help: 'model folder or Hub model id (org/name)' },
    inputs: {
      type: 'string',
      required: true,
      placeholder: 'FILE',
      help: 'safetensors file with the named input tensors',
    },
    out: {
      type: 'string',
      required: true,
      placeholder: 'FILE',
      help: 'safetensors file to write (written atomically)',
    },
    family: {
      type: 'string',
      placeholder: 'NAME',
      help: `model family to use instead of config.json's model_type (model types: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
    },
    revision: { type: 'string', default: DEFAULT_REVISION, placeholder: 'REV', help: 'Hub branch, tag or commit' },
    device: {
      type: 'string',
      default: 'cpu',
      pattern: /^(cpu|cuda(:\d+)?)$/,
      expected: 'cpu, cuda or cuda:N',
      placeholder: 'D',
      help: 'cpu, cuda or cuda:N',
    },
    init: {
      type: 'enum',
      choices: ['pretrained', 'random'],
      default: 'pretrained',
      help: "the folder's weights, or random weights from its config (seeded by --seed; for trying a folder without weights)",
    },
    seed: { type: 'int', default: 0, help: 'seed of --init random' },
    json: { type: 'boolean', help: 'print a JSON summary instead of text' },
  },
  footer: `Exit codes: 0 written, 1 failure (download, engine), 2 bad usage or bad input (config, checkpoint or
inputs that do not fit the model).`,
});

export const specs = [FORWARD];

/** Runs a step whose errors are the user's input, turning them into exit code 2 with the message kept. */
function badInput<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message, EXIT.usage);
  }
}

function describe(t: Tensor): { dtype: string; shape: number[] } {
  return { dtype: t.dtype, shape: t.shape };
}

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(FORWARD, argv);
  if (!a) return EXIT.ok;
  const { model: modelArg, inputs: inputsPath, out: outPath } = a.values;
  const device = parseDevice(a.values.device, '--device');
  if (!existsSync(inputsPath!)) throw new CliError(`--inputs: ${inputsPath} does not exist`);

  const random = a.values.init === 'random';
  let folder: string;
  try {
    folder = await resolveModelFolder(modelArg!, { revision: a.values.revision, requireWeights: !random });
  } catch (e) {
    // A path that is not there is the user's mistake; a Hub id that cannot be fetched is a failure.
    const code = existsSync(modelArg!) || !isRepoId(modelArg!) ? EXIT.usage : EXIT.failure;
    throw new CliError(`--model: ${(e as Error).message}`, code);
  }
  // a run folder stands for its best checkpoint
  const best = join(folder, 'best');
  if (!existsSync(join(folder, 'config.json')) && existsSync(join(best, 'config.json'))) folder = best;
  if (!random && !hasWeights(folder))
    throw new CliError(
      `--model ${modelArg}: ${folder} has no weights (no model.safetensors or model.safetensors.index.json). ` +
        'Pass --init random to run it with random weights from its config.json, give a folder with weights ' +
        '(a Hub id such as dandelin/vilt-b32-mlm, or a run trained by `tandem train`: runs/NAME), ' +
        "or train one first (the README's quick start)",
    );
  if (random) {
    manualSeed(a.values.seed);
    process.stderr.write(
      `note: --init random: the weights are random (seed ${a.values.seed}), built from ${folder}/config.json; the outputs say nothing about a trained model\n`,
    );
  }

  const config = badInput(() => readModelConfig(folder));
  if (isTandemCheckpoint(config)) {
    if (a.values.family)
      throw new CliError(`--family: ${folder} is a tandem run checkpoint, whose recipe fixes its models`);
    return forwardRun(folder, random, a.values, device);
  }
  const familyName = a.values.family ?? (typeof config.model_type === 'string' ? config.model_type : undefined);
  if (!familyName) throw new CliError(`${folder}/config.json has no "model_type": name the family with --family`);
  const family: ModelFamily = await familyFor(familyName, a.values.family ? '--family' : `${folder}/config.json`).catch(
    (e: Error) => {
      throw new CliError(e.message, EXIT.usage);
    },
  );

  // --family overrides model_type: the family reads the config as one of its own model types.
  const typed =
    a.values.family && !family.modelTypes.includes(String(config.model_type))
      ? { ...config, model_type: family.modelTypes[0] }
      : config;
  const model: Module = badInput(() => family.build(typed, { where: `${folder}/config.json` }));
  try {
    if (!random)
      badInput(() => {
        const weights = openModelWeights(folder);
        try {
          family.load(model, weights);
        } finally {
          weights.close();
        }
      });
    if (device !== 'cpu') model.to(device);

    const inputs = badInput(() => loadSafetensorsFile(inputsPath!).tensors);
    const outputs = tidy(() => {
      const onDevice = device === 'cpu' ? inputs : new Map([...inputs].map(([k, t]) => [k, t.to(device)]));
      return badInput(() => family.forwardNamed(model, onDevice));
    });
    dispose(inputs);
    write(outputs, { model: modelArg!, folder, family: family.name, device, out: outPath!, json: a.values.json });
  } finally {
    model.dispose();
  }
  return EXIT.ok;
}

function hasWeights(folder: string): boolean {
  return existsSync(join(folder, 'model.safetensors')) || existsSync(join(folder, 'model.safetensors.index.json'));
}

/** A tandem run checkpoint: config.json with a "tandem" section (model_type "tandem"). */
function isTandemCheckpoint(config: Record<string, unknown>): boolean {
  return config.model_type === 'tandem' || (typeof config.tandem === 'object' && config.tandem !== null);
}

type Values = ParsedValues<typeof FORWARD.options>;

/** The forward pass of a tandem run checkpoint: the classifier's outputs and its sub-models' (forward-run.ts). */
async function forwardRun(folder: string, random: boolean, v: Values, device: Device): Promise<number> {
  const model = badInput(() => {
    if (!random) return loadClassifier(folder);
    return classifierFromConfig(readRecipeConfig(folder), `${folder}/config.json › tandem`);
  });
  try {
    if (device !== 'cpu') model.to(device);
    const subModels = await subModelsOf(model).catch((e: Error) => {
      throw new CliError(e.message, EXIT.usage);
    });
    const inputs = badInput(() => loadSafetensorsFile(v.inputs!).tensors);
    const { outputs, notes } = tidy(() => {
      const onDevice = device === 'cpu' ? inputs : new Map([...inputs].map(([k, t]) => [k, t.to(device)]));
      return badInput(() => classifierForwardNamed(model, subModels, onDevice));
    });
    dispose(inputs);
    for (const n of notes) process.stderr.write(`note: ${n}\n`);
    write(outputs, { model: v.model!, folder, family: `tandem ${model.recipe}`, device, out: v.out!, json: v.json });
  } finally {
    model.dispose();
  }
  return EXIT.ok;
}

/** Writes the outputs and prints what was written (then disposes them). */
function write(
  outputs: Map<string, Tensor>,
  o: { model: string; folder: string; family: string; device: Device; out: string; json: boolean | undefined },
): void {
  try {
    saveTensors(o.out, outputs, { format: 'pt' });
    const summary = [...outputs].map(([name, t]) => ({ name, ...describe(t) }));
    if (o.json) {
      console.log(
        JSON.stringify(
          { model: o.model, folder: o.folder, family: o.family, device: o.device, out: o.out, outputs: summary },
          null,
          2,
        ),
      );
    } else {
      const width = Math.max(...summary.map((s) => s.name.length));
      for (const s of summary) console.log(`${s.name.padEnd(width)}  ${s.dtype} [${s.shape.join(', ')}]`);
      console.log(`wrote ${summary.length} tensors to ${o.out} (${o.family}, ${o.device})`);
    }
  } finally {
    dispose(outputs);
  }
}
