// `tandem forward`: runs a model's forward pass on saved inputs and writes every output under the names
// transformers uses, so a checkpoint can be checked against another framework tensor by tensor.
import { existsSync } from 'node:fs';
import { DEFAULT_REVISION, resolveModelFolder, isRepoId } from '../../io/hub.js';
import { openModelWeights, readModelConfig } from '../../io/model-folder.js';
import { loadSafetensorsFile, saveTensors } from '../../io/tensors.js';
import { familyFor, SUPPORTED_MODEL_TYPES, type ModelFamily } from '../../models/family.js';
import type { Module } from '../../nn/index.js';
import { dispose, parseDevice, tidy, type Tensor } from '../../tensor/index.js';
import { CliError, EXIT } from '../args.js';
import { defineCommand, parseCommand } from '../options.js';

export const FORWARD = defineCommand({
  name: 'forward',
  usage: ['tandem forward --model <dir|Hub id> --inputs INPUTS.safetensors --out OUTPUTS.safetensors [options]'],
  description: `Loads a Hugging Face model folder (config.json + model.safetensors, or a sharded index) or a Hub model id
(downloaded into the Hub cache; HF_HUB_OFFLINE=1 uses the cache only), runs the forward pass in eval mode
without gradients on the named tensors of INPUTS (input_ids, attention_mask, token_type_ids, pixel_values,
pixel_mask, visual_feats, visual_pos, labels, ... as the model takes them) and writes every output under the
reference's names (last_hidden_state, pooler_output, hidden_states.<i>, logits, text_embeds, ...).`,
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

  let folder: string;
  try {
    folder = await resolveModelFolder(modelArg!, { revision: a.values.revision, requireWeights: true });
  } catch (e) {
    // A path that is not there is the user's mistake; a Hub id that cannot be fetched is a failure.
    const code = existsSync(modelArg!) || !isRepoId(modelArg!) ? EXIT.usage : EXIT.failure;
    throw new CliError(`--model: ${(e as Error).message}`, code);
  }

  const config = badInput(() => readModelConfig(folder));
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
    try {
      saveTensors(outPath!, outputs, { format: 'pt' });
      const summary = [...outputs].map(([name, t]) => ({ name, ...describe(t) }));
      if (a.values.json) {
        console.log(
          JSON.stringify(
            { model: modelArg, folder, family: family.name, device, out: outPath, outputs: summary },
            null,
            2,
          ),
        );
      } else {
        const width = Math.max(...summary.map((s) => s.name.length));
        for (const s of summary) console.log(`${s.name.padEnd(width)}  ${s.dtype} [${s.shape.join(', ')}]`);
        console.log(`wrote ${summary.length} tensors to ${outPath} (${family.name}, ${device})`);
      }
    } finally {
      dispose(outputs);
    }
  } finally {
    model.dispose();
  }
  return EXIT.ok;
}
