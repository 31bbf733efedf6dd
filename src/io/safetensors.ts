// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
// Files come from strangers, so the header is checked completely before any tensor is handed out.
import {
  closeSync,
  existsSync,
  mkdirSync,
  fstatSync,
  openSync,
  readFileSync,
  readdirSync,
  readSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { basename, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { DTYPE_SIZE, type DType } from '../tensor/dtype.js';
import { writeAll, writeFileAtomic, writeFileAtomicWith } from './atomic-write.js';
import { isPickleFile, pickleAdvice } from './pickle.js';

/** A tensor as bytes: little-endian, row-major, exactly numel * DTYPE_SIZE[dtype] bytes. */
export interface RawTensor {
  dtype: DType;
  shape: number[];
  data: Buffer;
}

/** What writers accept: any typed array or Buffer view holding the little-endian bytes. */
export interface TensorToWrite {
  dtype: DType;
  shape: readonly number[];
  data: ArrayBufferView;
}

export interface TensorInfo {
  dtype: DType;
  shape: number[];
  byteLength: number;
}

/** Read access to named tensors, from one file or from the shards of a checkpoint. */
export interface TensorSource {
  readonly path: string;
  readonly metadata: Record<string, string>;
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /** Reads just this tensor's bytes from disk. */
  read(name: string): Buffer;
  close(): void;
  [Symbol.dispose](): void;
}

export interface SafetensorsReader extends TensorSource {
  /** Absolute byte offset of the tensor's data in the file (for memory-mapping by native code). */
  fileOffset(name: string): number;
  /** Reads the tensor's bytes into `target` (which must be exactly info(name).byteLength long). */
  readInto(name: string, target: ArrayBufferView): void;
}

/** The reference implementation's limit on the header (MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;

const CODE_TO_DTYPE: Record<string, DType> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  U8: 'uint8',
  BOOL: 'bool',
};
const DTYPE_TO_CODE: Record<DType, string> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};
/** Valid in the format but not handled by tandem's engine: refused by name rather than as "unknown". */
const KNOWN_UNSUPPORTED = [
  'I8',
  'I16',
  'U16',
  'U32',
  'U64',
  'F8_E4M3',
  'F8_E5M2',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'C64',
];
/**
 * The reference writer orders tensors by dtype (its enum order, largest first, which keeps data aligned)
 * and then by name; we do the same so files come out byte-identical.
 */
const DTYPE_WRITE_RANK: Record<DType, number> = {
  bool: 0,
  uint8: 1,
  float16: 2,
  bfloat16: 3,
  int32: 4,
  float32: 5,
  float64: 6,
  int64: 7,
};

interface Entry extends TensorInfo {
  name: string;
  begin: number; // offset inside the data area
}

interface ParsedHeader {
  headerBytes: number; // the N of the 8-byte prefix
  metadata: Record<string, string>;
  entries: Map<string, Entry>;
}

export function safetensorsDtypeCode(dtype: DType): string {
  return DTYPE_TO_CODE[dtype];
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Validates a header given its JSON text and the size of the data area that follows it.
 * `file` only names the source in errors.
 */
export function parseSafetensorsHeader(
  json: string,
  dataBytes: number,
  file: string,
): { metadata: Record<string, string>; entries: Map<string, Entry> } {
  const where = `safetensors file ${file}`;
  let header: unknown;
  try {
    header = JSON.parse(json);
  } catch (e) {
    throw new Error(`${where}: header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error(
      `${where}: header must be a JSON object, got ${Array.isArray(header) ? 'an array' : header === null ? 'null' : typeof header}`,
    );
  }
  const metadata: Record<string, string> = {};
  const entries = new Map<string, Entry>();
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw new Error(`${where}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string')
          throw new Error(`${where}: __metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    entries.set(name, parseEntry(name, value, dataBytes, where));
  }
  checkLayout([...entries.values()], dataBytes, where);
  return { metadata, entries };
}

function parseEntry(name: string, value: unknown, dataBytes: number, where: string): Entry {
  const at = `${where}: tensor '${name}'`;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${at}: expected an object with dtype, shape and data_offsets`);
  const v = value as Record<string, unknown>;
  const code = v.dtype;
  if (typeof code !== 'string') throw new Error(`${at}: dtype must be a string, got ${JSON.stringify(code)}`);
  const dtype = CODE_TO_DTYPE[code];
  if (dtype === undefined) {
    const supported = Object.keys(CODE_TO_DTYPE).join(', ');
    if (KNOWN_UNSUPPORTED.includes(code))
      throw new Error(`${at}: dtype ${code} is not supported by tandem (supported: ${supported})`);
    throw new Error(`${at}: unknown dtype '${code}' (supported: ${supported})`);
  }
  const shape = v.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new Error(`${at}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const offs = v.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
    throw new Error(`${at}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offs)}`);
  }
  const [begin, end] = offs as [number, number];
  if (end < begin) throw new Error(`${at}: data_offsets [${begin}, ${end}] end before begin`);
  if (end > dataBytes)
    throw new Error(
      `${at}: data_offsets [${begin}, ${end}] reach past the end of the data area (${dataBytes} bytes; is the file truncated?)`,
    );
  const numel = numelOf(shape as number[]);
  const expected = numel * DTYPE_SIZE[dtype];
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    throw new Error(
      `${at}: shape ${JSON.stringify(shape)} of ${code} needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: shape as number[], byteLength: end - begin, begin };
}

/** Tensors must tile the data area exactly: no overlap, no unused gap, nothing after the last one. */
function checkLayout(entries: Entry[], dataBytes: number, where: string): void {
  // Stable order for empty tensors sharing an offset.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.byteLength - b.byteLength);
  let pos = 0;
  let prev: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) {
      throw new Error(
        `${where}: tensor '${e.name}' [${e.begin}, ${e.begin + e.byteLength}] overlaps tensor '${prev?.name}' [${prev?.begin}, ${pos}]`,
      );
    }
    if (e.begin > pos) {
      throw new Error(
        `${where}: unused gap of ${e.begin - pos} bytes at data offset ${pos} before tensor '${e.name}' (the format does not allow holes)`,
      );
    }
    pos = e.begin + e.byteLength;
    prev = e;
  }
  if (pos !== dataBytes) {
    throw new Error(
      `${where}: data area is ${dataBytes} bytes but the tensors cover only ${pos} (${dataBytes - pos} trailing bytes; the format does not allow them)`,
    );
  }
}

function readFully(fd: number, target: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < target.byteLength) {
    const n = readSync(fd, target, done, target.byteLength - done, position + done);
    if (n === 0)
      throw new Error(
        `safetensors file ${file}: unexpected end of file at byte ${position + done} (file changed or truncated while open)`,
      );
    done += n;
  }
}

function readHeader(fd: number, file: string): ParsedHeader & { fileBytes: number } {
  const fileBytes = fstatSync(fd).size;
  const where = `safetensors file ${file}`;
  if (fileBytes < 8) throw new Error(`${where}: file is ${fileBytes} bytes, shorter than the 8-byte header length`);
  const prefix = Buffer.alloc(8);
  readFully(fd, prefix, 0, file);
  const n = prefix.readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES))
    throw new Error(
      `${where}: header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes (corrupt or not a safetensors file)`,
    );
  const headerBytes = Number(n);
  if (8 + headerBytes > fileBytes)
    throw new Error(
      `${where}: header length ${headerBytes} reaches past the end of the ${fileBytes}-byte file (truncated?)`,
    );
  if (headerBytes < 2) throw new Error(`${where}: header length ${headerBytes} is too small for a JSON object`);
  const raw = Buffer.alloc(headerBytes);
  readFully(fd, raw, 8, file);
  if (raw[0] !== 0x7b) throw new Error(`${where}: header does not start with '{' (not a safetensors file?)`);
  const { metadata, entries } = parseSafetensorsHeader(raw.toString('utf8'), fileBytes - 8 - headerBytes, file);
  return { headerBytes, metadata, entries, fileBytes };
}

/** Opens a .safetensors file and validates its header; tensors are read on demand. */
export function openSafetensors(path: string): SafetensorsReader {
  const fd = openSync(path, 'r');
  let parsed: ReturnType<typeof readHeader>;
  try {
    parsed = readHeader(fd, path);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  const dataStart = 8 + parsed.headerBytes;
  let open = true;
  const entry = (name: string): Entry => {
    if (!open) throw new Error(`safetensors file ${path}: reader is closed`);
    const e = parsed.entries.get(name);
    if (e === undefined) throw new Error(`safetensors file ${path}: no tensor named '${name}'`);
    return e;
  };
  const reader: SafetensorsReader = {
    path,
    metadata: parsed.metadata,
    names: () => [...parsed.entries.keys()],
    has: (name) => parsed.entries.has(name),
    info: (name) => {
      const e = entry(name);
      return { dtype: e.dtype, shape: [...e.shape], byteLength: e.byteLength };
    },
    fileOffset: (name) => dataStart + entry(name).begin,
    read: (name) => {
      const e = entry(name);
      const buf = Buffer.allocUnsafe(e.byteLength);
      readFully(fd, buf, dataStart + e.begin, path);
      return buf;
    },
    readInto: (name, target) => {
      const e = entry(name);
      if (target.byteLength !== e.byteLength)
        throw new Error(
          `safetensors file ${path}: tensor '${name}' has ${e.byteLength} bytes, target has ${target.byteLength}`,
        );
      readFully(fd, new Uint8Array(target.buffer, target.byteOffset, target.byteLength), dataStart + e.begin, path);
    },
    close: () => {
      if (open) {
        open = false;
        closeSync(fd);
      }
    },
    [Symbol.dispose]: () => reader.close(),
  };
  return reader;
}

/** Reads a whole file: metadata and every tensor (in file order). */
export function readSafetensors(path: string): { metadata: Record<string, string>; tensors: Map<string, RawTensor> } {
  const r = openSafetensors(path);
  try {
    const tensors = new Map<string, RawTensor>();
    for (const name of r.names()) {
      const { dtype, shape } = r.info(name);
      tensors.set(name, { dtype, shape, data: r.read(name) });
    }
    return { metadata: { ...r.metadata }, tensors };
  } finally {
    r.close();
  }
}

type TensorsIn = Record<string, TensorToWrite> | Map<string, TensorToWrite>;

function toEntries(tensors: TensorsIn): [string, TensorToWrite][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
}

/** Validates the tensors and lays them out; returns the padded header and the data parts in order. */
function layout(
  tensors: TensorsIn,
  metadata: Record<string, string> | undefined,
): { header: Buffer; parts: Uint8Array[]; dataBytes: number } {
  const list = toEntries(tensors).map(([name, t]) => {
    const at = `safetensors: tensor '${name}'`;
    if (name === '__metadata__') throw new Error(`${at}: this name is reserved for the metadata`);
    if (DTYPE_TO_CODE[t.dtype] === undefined) throw new Error(`${at}: unsupported dtype '${t.dtype}'`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new Error(`${at}: shape must hold non-negative integers, got ${JSON.stringify(t.shape)}`);
    const bytes = numelOf(t.shape) * DTYPE_SIZE[t.dtype];
    if (t.data.byteLength !== bytes)
      throw new Error(
        `${at}: shape ${JSON.stringify(t.shape)} of ${t.dtype} needs ${bytes} bytes, data has ${t.data.byteLength}`,
      );
    return { name, t, bytes };
  });
  list.sort(
    (a, b) =>
      DTYPE_WRITE_RANK[b.t.dtype] - DTYPE_WRITE_RANK[a.t.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  // Built by hand: JSON.stringify of an object would move integer-like names to the front.
  const fields: string[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string')
        throw new Error(`safetensors: metadata '${k}' must be a string, got ${JSON.stringify(v)}`);
    fields.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const { name, t, bytes } of list) {
    fields.push(
      `${JSON.stringify(name)}:{"dtype":"${DTYPE_TO_CODE[t.dtype]}","shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${offset + bytes}]}`,
    );
    parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    offset += bytes;
  }
  const json = Buffer.from(`{${fields.join(',')}}`, 'utf8');
  const padded = json.byteLength + ((8 - (json.byteLength % 8)) % 8); // spaces to 8-byte alignment, as the reference
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(header, 8);
  return { header, parts, dataBytes: offset };
}

/** The bytes of a safetensors file holding `tensors`. */
export function serializeSafetensors(tensors: TensorsIn, metadata?: Record<string, string>): Buffer {
  const { header, parts } = layout(tensors, metadata);
  return Buffer.concat([header, ...parts]);
}

/** Writes a safetensors file atomically, streaming each tensor's bytes (no concatenated copy). */
export function writeSafetensors(path: string, tensors: TensorsIn, metadata?: Record<string, string>): void {
  const parts = safetensorsParts(tensors, metadata);
  writeFileAtomicWith(path, (fd) => {
    for (const p of parts) writeAll(fd, p);
  });
}

/** The bytes of a safetensors file, in order (the header, then each tensor's data), for writers of their own. */
export function safetensorsParts(tensors: TensorsIn, metadata?: Record<string, string>): Uint8Array[] {
  const { header, parts } = layout(tensors, metadata);
  return [header, ...parts];
}

// ---------------------------------------------------------------------------------------------------
// Checkpoints: `model.safetensors`, or shards listed by `model.safetensors.index.json` (transformers).

export const SINGLE_WEIGHTS = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface Checkpoint extends TensorSource {
  /** The safetensors files, in the order they were opened. */
  readonly files: string[];
  /** The index file when sharded, else null. */
  readonly indexPath: string | null;
  /** The file holding `name`. */
  fileOf(name: string): string;
}

/**
 * Opens the weights of a model folder (or a .safetensors / .index.json path directly) as one source of
 * named tensors. A plain `model.safetensors` wins over an index, as in transformers.
 */
export function openCheckpoint(dirOrFile: string): Checkpoint {
  let indexPath: string | null = null;
  let single: string | null = null;
  if (statSync(dirOrFile).isDirectory()) {
    if (existsSync(join(dirOrFile, SINGLE_WEIGHTS))) single = join(dirOrFile, SINGLE_WEIGHTS);
    else if (existsSync(join(dirOrFile, INDEX_FILE))) indexPath = join(dirOrFile, INDEX_FILE);
    else {
      const pickles = readdirSync(dirOrFile).filter(isPickleFile).sort();
      if (pickles.length > 0)
        throw new Error(`${dirOrFile}: no safetensors weights. ${pickleAdvice(pickles.join(', '))}`);
      throw new Error(`${dirOrFile}: no ${SINGLE_WEIGHTS} or ${INDEX_FILE} in this folder`);
    }
  } else if (isPickleFile(dirOrFile)) throw new Error(pickleAdvice(dirOrFile));
  else if (dirOrFile.endsWith('.index.json')) indexPath = dirOrFile;
  else single = dirOrFile;

  if (single !== null) {
    const r = openSafetensors(single);
    return {
      ...r,
      files: [single],
      indexPath: null,
      fileOf: (name) => (r.info(name), single),
      [Symbol.dispose]: () => r.close(),
    };
  }
  return openSharded(indexPath as string);
}

function readIndex(indexPath: string): { metadata: Record<string, string>; weightMap: Map<string, string> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new Error(`${indexPath}: not valid JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`${indexPath}: expected a JSON object with "weight_map"`);
  const { weight_map: wm, metadata: md } = parsed as Record<string, unknown>;
  if (wm === null || typeof wm !== 'object' || Array.isArray(wm))
    throw new Error(`${indexPath}: "weight_map" must be an object mapping tensor names to shard files`);
  const weightMap = new Map<string, string>();
  for (const [name, file] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof file !== 'string' || file === '')
      throw new Error(`${indexPath}: weight_map['${name}'] must be a file name, got ${JSON.stringify(file)}`);
    weightMap.set(name, file);
  }
  // Index metadata holds numbers (total_size); present it as strings like safetensors metadata.
  const metadata: Record<string, string> = {};
  if (md !== null && typeof md === 'object' && !Array.isArray(md)) {
    for (const [k, v] of Object.entries(md as Record<string, unknown>))
      metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return { metadata, weightMap };
}

/** A shard path from an index must name a file inside the checkpoint's folder. */
function shardPath(dir: string, file: string, indexPath: string): string {
  const norm = normalize(file);
  if (isAbsolute(file) || norm === '..' || norm.startsWith('..' + sep) || norm.startsWith('../')) {
    throw new Error(`${indexPath}: shard '${file}' points outside the checkpoint folder`);
  }
  const full = resolve(dir, norm);
  if (!full.startsWith(resolve(dir) + sep))
    throw new Error(`${indexPath}: shard '${file}' points outside the checkpoint folder`);
  return full;
}

function openSharded(indexPath: string): Checkpoint {
  const dir = resolve(indexPath, '..');
  const { metadata, weightMap } = readIndex(indexPath);
  const readers = new Map<string, SafetensorsReader>();
  const owner = new Map<string, SafetensorsReader>();
  try {
    for (const [name, file] of weightMap) {
      const full = shardPath(dir, file, indexPath);
      let r = readers.get(full);
      if (r === undefined) {
        if (!existsSync(full)) throw new Error(`${indexPath}: shard '${file}' (for tensor '${name}') does not exist`);
        r = openSafetensors(full);
        readers.set(full, r);
      }
      if (!r.has(name))
        throw new Error(`${indexPath}: tensor '${name}' is mapped to '${file}' but that shard has no such tensor`);
      owner.set(name, r);
    }
  } catch (e) {
    for (const r of readers.values()) r.close();
    throw e;
  }
  const get = (name: string): SafetensorsReader => {
    const r = owner.get(name);
    if (r === undefined) throw new Error(`checkpoint ${indexPath}: no tensor named '${name}'`);
    return r;
  };
  const close = (): void => {
    for (const r of readers.values()) r.close();
  };
  return {
    path: indexPath,
    metadata,
    files: [...readers.keys()],
    indexPath,
    names: () => [...owner.keys()],
    has: (name) => owner.has(name),
    info: (name) => get(name).info(name),
    read: (name) => get(name).read(name),
    fileOf: (name) => get(name).path,
    close,
    [Symbol.dispose]: close,
  };
}

const SHARD_RE = /^model-\d{5}-of-\d{5}\.safetensors$/;

export function shardName(i: number, count: number): string {
  return `model-${String(i + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.safetensors`;
}

/**
 * Writes a checkpoint into `dir` the way transformers' save_pretrained does: one `model.safetensors` when
 * everything fits in `maxShardBytes`, else shards `model-0000i-of-0000n.safetensors` (tensors in the given
 * order, a tensor larger than the limit alone in its shard) and `model.safetensors.index.json`. Each file is
 * written atomically, the index last; stale weight files from an earlier save are removed afterwards.
 */
export function writeShardedSafetensors(
  dir: string,
  tensors: TensorsIn,
  opts: { maxShardBytes: number; metadata?: Record<string, string> },
): { files: string[]; indexPath: string | null } {
  if (!(opts.maxShardBytes > 0))
    throw new Error(`writeShardedSafetensors: maxShardBytes must be positive, got ${opts.maxShardBytes}`);
  const metadata = opts.metadata ?? { format: 'pt' };
  mkdirSync(dir, { recursive: true });
  const shards: [string, TensorToWrite][][] = [];
  let current: [string, TensorToWrite][] = [];
  let size = 0;
  let total = 0;
  for (const [name, t] of toEntries(tensors)) {
    const bytes = t.data.byteLength;
    if (current.length > 0 && size + bytes > opts.maxShardBytes) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push([name, t]);
    size += bytes;
    total += bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);

  let written: string[];
  let indexPath: string | null = null;
  if (shards.length === 1) {
    written = [join(dir, SINGLE_WEIGHTS)];
    writeSafetensors(written[0], new Map(shards[0]), metadata);
  } else {
    written = shards.map((_, i) => join(dir, shardName(i, shards.length)));
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, i) => {
      writeSafetensors(written[i], new Map(shard), metadata);
      for (const [name] of shard) weightMap[name] = shardName(i, shards.length);
    });
    indexPath = join(dir, INDEX_FILE);
    writeFileAtomic(
      indexPath,
      JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n',
    );
  }
  const keep = new Set(written.map((f) => basename(f)));
  for (const f of readdirSync(dir)) {
    const stale =
      (f === SINGLE_WEIGHTS || f === INDEX_FILE || SHARD_RE.test(f)) &&
      !keep.has(f) &&
      !(indexPath !== null && f === INDEX_FILE);
    if (stale) unlinkSync(join(dir, f));
  }
  return { files: written, indexPath };
}
