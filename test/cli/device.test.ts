// --device in every command that runs a model: a device this process cannot use is a usage error (exit 2)
// naming the flag, raised before any file is read (the data and run paths below do not exist, so a check
// made after reading them would report those instead). On a machine with a GPU, the GPU beyond the last one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { cudaAvailable, cudaDeviceCount } from '../../src/tensor/index.js';

const unusable = cudaAvailable() ? `cuda:${cudaDeviceCount()}` : 'cuda';
const missing = '/nonexistent/tandem-device-test';

const commands: [string, string[]][] = [
  ['train', ['train', '--data', `${missing}/posts.jsonl`, '--out', `${missing}/run`, '--model', missing]],
  ['evaluate', ['evaluate', '--run', missing, '--data', `${missing}/posts.jsonl`]],
  ['predict', ['predict', '--run', missing, '--input', `${missing}/posts.jsonl`]],
  ['serve', ['serve', '--run', missing, '--port', '0']],
];

for (const [name, args] of commands)
  test(`${name} --device ${unusable}: a usage error before any file is read`, () => {
    const r = runCli([...args, '--device', unusable]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`--device ${unusable}: (this libtorch .* has no CUDA|GPU \\d+ requested)`));
    assert.doesNotMatch(r.stderr, /nonexistent/);
  });

test('--device with a malformed value names the flag and the accepted forms', () => {
  const r = runCli(['evaluate', '--run', missing, '--data', missing, '--device', 'gpu']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--device.*cpu, cuda or cuda:N/);
});
