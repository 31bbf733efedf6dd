import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MAX_HEADER_BYTES,
  openCheckpoint,
  openSafetensors,
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
  writeShardedSafetensors,
  type TensorToWrite,
} from '../../src/io/safetensors.js';
import { GOLDEN } from '../helpers/cli.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tandem-st-'));

/** A file with a given header (object or raw text) and `dataBytes` zero bytes after it. */
function craft(header: object | string, dataBytes: number, lengthOverride?: bigint): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(lengthOverride ?? BigInt(json.byteLength));
  return Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]);
}

function expectRefused(bytes: Buffer, pattern: RegExp): void {
  const dir = tmp();
  const file = join(dir, 'bad.safetensors');
  writeFileSync(file, bytes);
  try {
    assert.throws(
      () => openSafetensors(file),
      (e: Error) => {
        assert.match(e.message, pattern);
        assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
}

const f32 = (...v: number[]): Buffer => Buffer.from(new Float32Array(v).buffer);

test('every dtype round-trips with metadata, and the bytes read back are the bytes written', () => {
  const bf16 = Buffer.alloc(6);
  [0x3f80, 0xc000, 0x7f80].forEach((v, i) => bf16.writeUInt16LE(v, i * 2)); // 1, -2, +inf
  const tensors: Record<string, TensorToWrite> = {
    f32: { dtype: 'float32', shape: [2, 2], data: new Float32Array([1.5, -2, 3.25, 1e-8]) },
    f64: { dtype: 'float64', shape: [3], data: new Float64Array([Math.PI, -0, 1e300]) },
    f16: { dtype: 'float16', shape: [2], data: new Uint16Array([0x3c00, 0xbc00]) }, // 1, -1
    bf16: { dtype: 'bfloat16', shape: [3], data: bf16 },
    i64: { dtype: 'int64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 7n]) },
    i32: { dtype: 'int32', shape: [1, 3], data: new Int32Array([-1, 0, 2 ** 31 - 1]) },
    u8: { dtype: 'uint8', shape: [4], data: new Uint8Array([0, 1, 128, 255]) },
    bool: { dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) },
    scalar: { dtype: 'float32', shape: [], data: new Float32Array([42]) },
    empty: { dtype: 'float32', shape: [0, 5], data: new Float32Array(0) },
  };
  const dir = tmp();
  const file = join(dir, 'all.safetensors');
  writeSafetensors(file, tensors, { format: 'pt', note: 'ünïcode ✓' });
  assert.deepEqual(readdirSync(dir), ['all.safetensors'], 'no temp file left behind');
  const bytes = readFileSync(file);
  assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0, 'header padded to 8 bytes');
  assert.deepEqual(bytes, serializeSafetensors(tensors, { format: 'pt', note: 'ünïcode ✓' }));

  const { metadata, tensors: back } = readSafetensors(file);
  assert.deepEqual(metadata, { format: 'pt', note: 'ünïcode ✓' });
  assert.equal(back.size, Object.keys(tensors).length);
  for (const [name, t] of Object.entries(tensors)) {
    const got = back.get(name);
    assert.ok(got, name);
    assert.equal(got.dtype, t.dtype, name);
    assert.deepEqual(got.shape, t.shape, name);
    assert.deepEqual(got.data, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), name);
  }
  assert.deepEqual(
    Array.from(
      new BigInt64Array(
        back.get('i64')!.data.buffer.slice(back.get('i64')!.data.byteOffset, back.get('i64')!.data.byteOffset + 16),
      ),
    ),
    [-(2n ** 62n), 7n],
  );
  // The reference writer's order: larger dtypes first, then by name.
  assert.deepEqual([...back.keys()], ['i64', 'f64', 'empty', 'f32', 'scalar', 'i32', 'bf16', 'f16', 'u8', 'bool']);
  rmSync(dir, { recursive: true });
});

test('reader reads single tensors on demand, into a target, and reports file offsets', () => {
  const dir = tmp();
  const file = join(dir, 'x.safetensors');
  writeSafetensors(file, {
    a: { dtype: 'float32', shape: [2], data: f32(1, 2) },
    b: { dtype: 'float32', shape: [1], data: f32(3) },
  });
  using r = openSafetensors(file);
  assert.deepEqual(r.names(), ['a', 'b']);
  assert.deepEqual(r.info('b'), { dtype: 'float32', shape: [1], byteLength: 4 });
  assert.deepEqual(r.read('b'), f32(3));
  const target = new Float32Array(2);
  r.readInto('a', target);
  assert.deepEqual(Array.from(target), [1, 2]);
  assert.equal(readFileSync(file).readFloatLE(r.fileOffset('b')), 3);
  assert.throws(() => r.info('c'), /no tensor named 'c'/);
  assert.throws(() => r.readInto('a', new Float32Array(3)), /has 8 bytes, target has 12/);
  r.close();
  assert.throws(() => r.read('a'), /closed/);
  rmSync(dir, { recursive: true });
});

test('golden bert checkpoint: names, shapes, metadata and values, and we rewrite it byte for byte', () => {
  const file = join(GOLDEN, 'models', 'bert', 'model.safetensors');
  const { metadata, tensors } = readSafetensors(file);
  assert.deepEqual(metadata, { format: 'pt' });
  assert.equal(tensors.size, 41);
  const emb = tensors.get('bert.embeddings.word_embeddings.weight')!;
  assert.equal(emb.dtype, 'float32');
  assert.deepEqual(emb.shape, [400, 32]);
  const view = new DataView(emb.data.buffer, emb.data.byteOffset, emb.data.byteLength);
  // pad_token_id 0: transformers zeroes the padding row; the rest ~ N(0, initializer_range = 0.02).
  for (let i = 0; i < 32; i++) assert.equal(view.getFloat32(i * 4, true), 0);
  let sum = 0;
  let sq = 0;
  const n = 399 * 32;
  for (let i = 32; i < 400 * 32; i++) {
    const v = view.getFloat32(i * 4, true);
    sum += v;
    sq += v * v;
  }
  const std = Math.sqrt(sq / n - (sum / n) ** 2);
  assert.ok(std > 0.019 && std < 0.021, `std ${std}`);
  const ln = tensors.get('bert.embeddings.LayerNorm.weight')!;
  assert.deepEqual(ln.shape, [32]);
  const lnv = new DataView(ln.data.buffer, ln.data.byteOffset, ln.data.byteLength);
  for (let i = 0; i < 32; i++) assert.equal(lnv.getFloat32(i * 4, true), 1);
  assert.deepEqual(tensors.get('classifier.weight')!.shape, [3, 32]);

  assert.deepEqual(serializeSafetensors(tensors, metadata), readFileSync(file));
});

test('golden inputs with mixed dtypes: values match the tokenizer, layout matches the Python writer', () => {
  const file = join(GOLDEN, 'models', 'vilt', 'inputs.safetensors');
  const { metadata, tensors } = readSafetensors(file);
  assert.deepEqual(metadata, {});
  assert.deepEqual(
    [...tensors.keys()],
    ['attention_mask', 'input_ids', 'pixel_mask', 'token_type_ids', 'pixel_values'],
  );
  const ids = tensors.get('input_ids')!;
  assert.equal(ids.dtype, 'int64');
  assert.deepEqual(ids.shape, [4, 16]);
  const vocab = JSON.parse(readFileSync(join(GOLDEN, 'models', 'vilt', 'tokenizer.json'), 'utf8')).model.vocab;
  const dv = new DataView(ids.data.buffer, ids.data.byteOffset, ids.data.byteLength);
  for (let row = 0; row < 4; row++) assert.equal(Number(dv.getBigInt64(row * 16 * 8, true)), vocab['[CLS]']);
  // Written without metadata by the reference: no __metadata__ key, same bytes.
  const bytes = readFileSync(file);
  assert.ok(!bytes.subarray(0, 400).toString('latin1').includes('__metadata__'));
  assert.deepEqual(serializeSafetensors(tensors), bytes);
});

test('malformed files are refused with a message that says what is wrong', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  expectRefused(Buffer.alloc(5), /5 bytes, shorter than the 8-byte header length/);
  expectRefused(craft(ok, 8, BigInt(MAX_HEADER_BYTES) + 1n), /header length 100000001 exceeds the limit/);
  expectRefused(craft(ok, 8, 1n << 63n), /exceeds the limit/);
  expectRefused(craft(ok, 8, 5000n), /header length 5000 reaches past the end of the \d+-byte file/);
  expectRefused(craft('{"a": {"dtype": "F32",', 0), /header is not valid JSON/);
  expectRefused(craft('[1, 2, 3]', 0), /does not start with '\{'/);
  expectRefused(craft('{"__metadata__": {"x": 1}}', 0), /__metadata__\.x must be a string/);
  expectRefused(craft(ok, 4), /data_offsets \[0, 8\] reach past the end of the data area \(4 bytes/);
  // A file cut short: the last tensor's bytes are missing.
  expectRefused(craft(ok, 8).subarray(0, -3), /reach past the end of the data area \(5 bytes; is the file truncated/);
  expectRefused(
    craft(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } },
      8,
    ),
    /'b' \[4, 8\] overlaps tensor 'a' \[0, 8\]/,
  );
  expectRefused(
    craft(
      { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } },
      12,
    ),
    /unused gap of 4 bytes at data offset 4 before tensor 'b'/,
  );
  expectRefused(craft(ok, 12), /covers? only 8 \(4 trailing bytes/);
  expectRefused(
    craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8),
    /shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] hold 8/,
  );
  expectRefused(craft({ a: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, 8), /unknown dtype 'Q4'/);
  expectRefused(
    craft({ a: { dtype: 'I8', shape: [8], data_offsets: [0, 8] } }, 8),
    /dtype I8 is not supported by tandem/,
  );
  expectRefused(
    craft({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8),
    /shape must be an array of non-negative integers, got \[-2\]/,
  );
  expectRefused(craft({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8), /end before begin/);
  expectRefused(craft({ a: { dtype: 'F32', shape: [2] } }, 8), /data_offsets must be \[begin, end\]/);
});

test('writer refuses inconsistent tensors and leaves nothing behind', () => {
  const dir = tmp();
  const file = join(dir, 'w.safetensors');
  assert.throws(
    () => writeSafetensors(file, { a: { dtype: 'float32', shape: [3], data: f32(1, 2) } }),
    /shape \[3\] of float32 needs 12 bytes, data has 8/,
  );
  assert.throws(
    () => writeSafetensors(file, { __metadata__: { dtype: 'uint8', shape: [0], data: new Uint8Array(0) } }),
    /reserved/,
  );
  assert.deepEqual(readdirSync(dir), []);
  rmSync(dir, { recursive: true });
});

test('sharded checkpoint: written like save_pretrained, read back as one source', () => {
  const root = tmp();
  const dir = join(root, 'new', 'folder'); // created as save_pretrained does
  const tensors = new Map<string, TensorToWrite>();
  for (let i = 0; i < 5; i++)
    tensors.set(`layer.${i}.weight`, { dtype: 'float32', shape: [10], data: new Float32Array(10).fill(i) });
  tensors.set('big', { dtype: 'float64', shape: [20], data: new Float64Array(20).fill(-1) }); // 160 bytes > limit: alone
  const { files, indexPath } = writeShardedSafetensors(dir, tensors, { maxShardBytes: 100 });
  assert.deepEqual(
    files.map((f) => f.slice(dir.length + 1)),
    [1, 2, 3, 4].map((i) => `model-0000${i}-of-00004.safetensors`),
  );
  assert.equal(indexPath, join(dir, 'model.safetensors.index.json'));
  const index = JSON.parse(readFileSync(indexPath!, 'utf8'));
  assert.equal(index.metadata.total_size, 5 * 40 + 160);
  assert.equal(index.weight_map['layer.2.weight'], 'model-00002-of-00004.safetensors');
  assert.equal(index.weight_map['big'], 'model-00004-of-00004.safetensors');

  using ck = openCheckpoint(dir);
  assert.deepEqual(ck.names().sort(), [...tensors.keys()].sort());
  assert.equal(ck.metadata.total_size, '360');
  assert.deepEqual(ck.info('big'), { dtype: 'float64', shape: [20], byteLength: 160 });
  assert.deepEqual(
    Array.from(new Float32Array(new Uint8Array(ck.read('layer.3.weight')).buffer)),
    new Array(10).fill(3),
  );
  assert.equal(ck.fileOf('layer.0.weight'), join(dir, 'model-00001-of-00004.safetensors'));
  ck.close();

  // Saving again small enough for one file replaces the shards with model.safetensors.
  writeShardedSafetensors(
    dir,
    { x: { dtype: 'uint8', shape: [1], data: new Uint8Array([9]) } },
    { maxShardBytes: 100 },
  );
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  using one = openCheckpoint(dir);
  assert.deepEqual(one.names(), ['x']);
  assert.deepEqual(one.read('x'), Buffer.from([9]));
  rmSync(root, { recursive: true });
});

test('sharded index is validated: escaping paths, missing shards, misnamed tensors', () => {
  const dir = tmp();
  writeSafetensors(join(dir, 'model-00001-of-00001.safetensors'), {
    a: { dtype: 'float32', shape: [1], data: f32(1) },
  });
  const index = (wm: Record<string, string>): void =>
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: wm }));
  index({ a: '../outside.safetensors' });
  assert.throws(() => openCheckpoint(dir), /shard '..\/outside.safetensors' points outside the checkpoint folder/);
  index({ a: '/etc/passwd' });
  assert.throws(() => openCheckpoint(dir), /points outside/);
  index({ a: 'model-00002-of-00002.safetensors' });
  assert.throws(
    () => openCheckpoint(dir),
    /shard 'model-00002-of-00002.safetensors' \(for tensor 'a'\) does not exist/,
  );
  index({ b: 'model-00001-of-00001.safetensors' });
  assert.throws(
    () => openCheckpoint(dir),
    /tensor 'b' is mapped to 'model-00001-of-00001.safetensors' but that shard has no such tensor/,
  );
  writeFileSync(join(dir, 'model.safetensors.index.json'), '{"weight_map": ');
  assert.throws(() => openCheckpoint(dir), /model.safetensors.index.json: not valid JSON/);
  rmSync(join(dir, 'model.safetensors.index.json'));
  assert.throws(() => openCheckpoint(dir), /no model.safetensors or model.safetensors.index.json/);
  assert.ok(existsSync(dir));
  rmSync(dir, { recursive: true });
});
