import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkTensorNames,
  inspectModelFolder,
  openModelWeights,
  readJsonFile,
  readModelConfig,
} from '../../src/io/model-folder.js';
import { openCheckpoint, writeSafetensors } from '../../src/io/safetensors.js';
import { GOLDEN } from '../helpers/cli.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tandem-mf-'));

test('golden clip folder: files located, config read, weights opened', () => {
  const dir = join(GOLDEN, 'models', 'clip');
  const f = inspectModelFolder(dir);
  assert.equal(f.configPath, join(dir, 'config.json'));
  assert.equal(f.weightsPath, join(dir, 'model.safetensors'));
  assert.equal(f.tokenizerPath, join(dir, 'tokenizer.json'));
  assert.equal(f.preprocessorConfigPath, join(dir, 'preprocessor_config.json'));
  assert.equal(f.tokenizerConfigPath, null);
  assert.equal(f.specialTokensMapPath, null);
  const config = readModelConfig(dir);
  assert.equal(config.model_type, 'clip');
  using w = openModelWeights(dir);
  assert.ok(w.has('logit_scale'));
  assert.deepEqual(w.info('logit_scale').shape, []);
});

test('malformed config.json names the file, line and column', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'config.json'), '{\n  "model_type": "bert",\n  "hidden_size" 32\n}\n');
  assert.throws(
    () => readModelConfig(dir),
    (e: Error) => {
      assert.equal(e.message.split(': invalid JSON')[0], `${join(dir, 'config.json')}:3:17`);
      return true;
    },
  );
  writeFileSync(join(dir, 'config.json'), '{"model_type": "bert",');
  assert.throws(() => readModelConfig(dir), /config\.json:1:23: invalid JSON/);
  writeFileSync(join(dir, 'config.json'), '{"a": ');
  assert.throws(() => readModelConfig(dir), /config\.json:1:7: invalid JSON \(Unexpected end of JSON input\)/);
  writeFileSync(join(dir, 'config.json'), '[1]');
  assert.throws(() => readModelConfig(dir), /config.json: expected a JSON object, got an array/);
  writeFileSync(join(dir, 'config.json'), '{"model_type": 3}');
  assert.throws(() => readModelConfig(dir), /"model_type" must be a string, got 3/);
  rmSync(join(dir, 'config.json'));
  assert.throws(() => inspectModelFolder(dir), /not a model folder \(no config.json\)/);
  assert.throws(() => inspectModelFolder(join(dir, 'nope')), /model folder does not exist/);
  writeFileSync(join(dir, 'x.json'), '"ok"');
  assert.equal(readJsonFile(join(dir, 'x.json')), 'ok');
  rmSync(dir, { recursive: true });
});

test('pickle weights are refused with advice pointing to safetensors', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'config.json'), '{}');
  writeFileSync(join(dir, 'pytorch_model.bin'), 'PK\x03\x04 not really');
  assert.throws(
    () => openModelWeights(dir),
    (e: Error) => {
      assert.match(e.message, /no safetensors weights/);
      assert.match(e.message, /pytorch_model\.bin: PyTorch pickle weights/);
      assert.match(e.message, /save_pretrained\(DIR, safe_serialization=True\)/);
      return true;
    },
  );
  // The lower-level openCheckpoint gives the same advice, so no loader can miss it.
  assert.throws(() => openCheckpoint(dir), /no safetensors weights\. pytorch_model\.bin: PyTorch pickle weights/);
  for (const name of ['weights.pt', 'model.pth', 'last.ckpt', 'state.pkl']) {
    writeFileSync(join(dir, name), 'x');
    assert.throws(
      () => openModelWeights(join(dir, name)),
      new RegExp(`${name.replace('.', '\\.')}: PyTorch pickle weights`),
    );
  }
  writeFileSync(join(dir, 'tf_model.h5'), 'x');
  assert.throws(() => openModelWeights(join(dir, 'tf_model.h5')), /unsupported weights format/);
  // Once safetensors weights exist they are used and the pickle files ignored.
  writeSafetensors(join(dir, 'model.safetensors'), {
    w: { dtype: 'float32', shape: [1], data: new Float32Array([2]) },
  });
  using w = openModelWeights(dir);
  assert.deepEqual(w.names(), ['w']);
  w.close();
  rmSync(dir, { recursive: true });
});

test('missing, unexpected and mis-shaped tensors are all named with the file', () => {
  const dir = tmp();
  cpSync(join(GOLDEN, 'models', 'bert', 'model.safetensors'), join(dir, 'model.safetensors'));
  using w = openModelWeights(dir);
  const expected = new Map<string, number[]>();
  for (const n of w.names()) expected.set(n, w.info(n).shape);
  checkTensorNames(w, expected); // the true layout passes
  expected.delete('classifier.bias');
  expected.set('classifer.bias', [3]);
  expected.set('classifier.weight', [32, 3]);
  assert.throws(
    () => checkTensorNames(w, expected),
    (e: Error) => {
      assert.equal(
        e.message,
        `${join(dir, 'model.safetensors')}: missing tensors: classifer.bias; unexpected tensors: classifier.bias; ` +
          `shape mismatches: classifier.weight (file [3,32], model [32,3])`,
      );
      return true;
    },
  );
  assert.throws(
    () => checkTensorNames(w, expected, { allowUnexpected: true }),
    /^(?!.*unexpected).*missing tensors: classifer\.bias/,
  );
  w.close();
  // Sharded folders go through the same path.
  renameSync(join(dir, 'model.safetensors'), join(dir, 'model-00001-of-00001.safetensors'));
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ weight_map: { 'classifier.bias': 'model-00001-of-00001.safetensors' } }),
  );
  using s = openModelWeights(dir);
  assert.deepEqual(s.names(), ['classifier.bias']);
  assert.equal(s.indexPath, join(dir, 'model.safetensors.index.json'));
  s.close();
  rmSync(dir, { recursive: true });
});
