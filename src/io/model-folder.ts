// Hugging Face model folders as save_pretrained writes them: config.json, safetensors weights (single or
// sharded), tokenizer and processor files. Pickle weights are refused: loading them can run arbitrary code.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { INDEX_FILE, SINGLE_WEIGHTS, openCheckpoint, type Checkpoint, type TensorSource } from './safetensors.js';
import { isPickleFile, pickleAdvice } from './pickle.js';

export { isPickleFile, pickleAdvice };

export const CONFIG_FILE = 'config.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
export const SPECIAL_TOKENS_MAP_FILE = 'special_tokens_map.json';
export const PREPROCESSOR_CONFIG_FILE = 'preprocessor_config.json';

export interface ModelFolder {
  dir: string;
  /** config.json (always present: a model folder without it is refused). */
  configPath: string;
  /** model.safetensors or model.safetensors.index.json; null when the folder holds no safetensors weights. */
  weightsPath: string | null;
  tokenizerPath: string | null;
  tokenizerConfigPath: string | null;
  specialTokensMapPath: string | null;
  preprocessorConfigPath: string | null;
}

const OTHER_FORMATS_RE = /\.(h5|msgpack|onnx|gguf)$/i;

/** 1-based line and column of a character offset. */
function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < Math.min(pos, text.length); i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: Math.min(pos, text.length) - start + 1 };
}

/** Parses a JSON file; a syntax error names the file, line and column. */
export function readJsonFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /at position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : text.length; // "Unexpected end of JSON input" has no position
    const { line, column } = lineColumn(text, pos);
    throw new Error(`${path}:${line}:${column}: invalid JSON (${msg.replace(/\s*\(line \d+ column \d+\)/, '')})`);
  }
}

/** Reads a JSON file that must hold an object (config.json, tokenizer_config.json, ...). */
export function readJsonObject(path: string): Record<string, unknown> {
  const v = readJsonFile(path);
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new Error(
      `${path}: expected a JSON object, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`,
    );
  return v as Record<string, unknown>;
}

const optional = (dir: string, name: string): string | null => (existsSync(join(dir, name)) ? join(dir, name) : null);

/** Lists the files of a model folder; a missing folder or config.json is an error naming the path. */
export function inspectModelFolder(dir: string): ModelFolder {
  if (!existsSync(dir)) throw new Error(`${dir}: model folder does not exist`);
  if (!statSync(dir).isDirectory()) throw new Error(`${dir}: expected a model folder, got a file`);
  const configPath = join(dir, CONFIG_FILE);
  if (!existsSync(configPath)) throw new Error(`${dir}: not a model folder (no ${CONFIG_FILE})`);
  return {
    dir,
    configPath,
    weightsPath: optional(dir, SINGLE_WEIGHTS) ?? optional(dir, INDEX_FILE),
    tokenizerPath: optional(dir, TOKENIZER_FILE),
    tokenizerConfigPath: optional(dir, TOKENIZER_CONFIG_FILE),
    specialTokensMapPath: optional(dir, SPECIAL_TOKENS_MAP_FILE),
    preprocessorConfigPath: optional(dir, PREPROCESSOR_CONFIG_FILE),
  };
}

/** config.json of a model folder, checked to be an object with a string `model_type` when present. */
export function readModelConfig(dir: string): Record<string, unknown> {
  const path = inspectModelFolder(dir).configPath;
  const config = readJsonObject(path);
  if ('model_type' in config && typeof config.model_type !== 'string') {
    throw new Error(`${path}: "model_type" must be a string, got ${JSON.stringify(config.model_type)}`);
  }
  return config;
}

/**
 * Opens the weights of a model folder, or a weights file given directly. Pickle files, and folders that
 * only have them, are refused with advice on converting to safetensors.
 */
export function openModelWeights(dirOrFile: string): Checkpoint {
  if (!existsSync(dirOrFile)) throw new Error(`${dirOrFile}: does not exist`);
  const isDir = statSync(dirOrFile).isDirectory();
  if (!isDir && OTHER_FORMATS_RE.test(dirOrFile)) {
    throw new Error(
      `${dirOrFile}: unsupported weights format; tandem reads safetensors (.safetensors or ${INDEX_FILE})`,
    );
  }
  if (isDir && !existsSync(join(dirOrFile, SINGLE_WEIGHTS)) && !existsSync(join(dirOrFile, INDEX_FILE))) {
    const files = readdirSync(dirOrFile);
    const other = files.filter((f) => OTHER_FORMATS_RE.test(f));
    if (other.length > 0 && !files.some(isPickleFile)) {
      throw new Error(
        `${dirOrFile}: no ${SINGLE_WEIGHTS} or ${INDEX_FILE} (found ${other.join(', ')}, which tandem does not read)`,
      );
    }
  }
  return openCheckpoint(dirOrFile); // refuses pickle files with advice
}

/** The folder a path belongs to: itself when a folder, else its parent (for a file given directly). */
export function folderOf(path: string): string {
  return statSync(path).isDirectory() ? path : dirname(path);
}

const LIST_LIMIT = 20;
function listNames(names: string[]): string {
  const shown = names.slice(0, LIST_LIMIT).join(', ');
  return names.length > LIST_LIMIT ? `${shown}, ... and ${names.length - LIST_LIMIT} more` : shown;
}

/**
 * Checks a checkpoint's tensors against what a model expects (name → shape); throws one error naming the
 * file and every missing, unexpected (unless allowed) and mis-shaped tensor.
 */
export function checkTensorNames(
  source: TensorSource,
  expected: ReadonlyMap<string, readonly number[]> | Record<string, readonly number[]>,
  opts: { allowUnexpected?: boolean } = {},
): void {
  const want = expected instanceof Map ? expected : new Map(Object.entries(expected));
  const missing: string[] = [];
  const misshaped: string[] = [];
  for (const [name, shape] of want) {
    if (!source.has(name)) missing.push(name);
    else {
      const got = source.info(name).shape;
      if (got.length !== shape.length || got.some((d, i) => d !== shape[i]))
        misshaped.push(`${name} (file ${JSON.stringify(got)}, model ${JSON.stringify(shape)})`);
    }
  }
  const unexpected = opts.allowUnexpected ? [] : source.names().filter((n) => !want.has(n));
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`missing tensors: ${listNames(missing)}`);
  if (unexpected.length > 0) problems.push(`unexpected tensors: ${listNames(unexpected)}`);
  if (misshaped.length > 0) problems.push(`shape mismatches: ${listNames(misshaped)}`);
  if (problems.length > 0) throw new Error(`${source.path}: ${problems.join('; ')}`);
}
