import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  downloadHubFile,
  hubCacheDir,
  matchesPattern,
  resolveModelFile,
  resolveModelFolder,
  stderrProgress,
  type DownloadProgress,
} from '../../src/io/hub.js';
import { openCheckpoint } from '../../src/io/safetensors.js';
import { GOLDEN } from '../helpers/cli.js';
import { FakeHub, gitBlobSha1, sha256 } from './fake-hub.js';

const BERT = join(GOLDEN, 'models', 'bert');
const REPO = 'tandem-test/tiny-bert';
const STORAGE = 'models--tandem-test--tiny-bert';

async function withHub(fn: (hub: FakeHub, env: NodeJS.ProcessEnv, cache: string) => Promise<void>): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'tandem-hub-'));
  const hub = new FakeHub(REPO, BERT, ['config.json', 'model.safetensors', 'tokenizer.json']);
  hub.add('pytorch_model.bin', Buffer.from('pickle bytes'), true);
  hub.add('README.md', Buffer.from('# tiny bert\n'));
  await hub.start();
  const env = { HF_HOME: home, HF_ENDPOINT: hub.endpoint };
  try {
    await fn(hub, env, join(home, 'hub'));
  } finally {
    await hub.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

const model = readFileSync(join(BERT, 'model.safetensors'));
const modelSha = sha256(model);

test('cache location follows HF_HUB_CACHE, then HF_HOME/hub; patterns follow fnmatch', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/a/b', HF_HOME: '/c' }), '/a/b');
  assert.equal(hubCacheDir({ HF_HOME: '/c' }), '/c/hub');
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/huggingface/hub');
  assert.ok(matchesPattern('model-00001-of-00002.safetensors', '*.safetensors'));
  assert.ok(matchesPattern('sub/dir/model.safetensors', '*.safetensors'), "'*' crosses '/' as in fnmatch");
  assert.ok(matchesPattern('tokenizer.json', 'tokenizer*.json'));
  assert.ok(!matchesPattern('tokenizer.json.bak', 'tokenizer*.json'));
  assert.ok(
    matchesPattern('a.txt', '[abc].txt') &&
      !matchesPattern('d.txt', '[abc].txt') &&
      matchesPattern('d.txt', '[!abc].txt'),
  );
  assert.ok(matchesPattern('onnx/model.onnx', 'onnx/'));
});

test('first load downloads into the Hub cache layout; then the cache serves it offline with the server stopped', async () => {
  await withHub(async (hub, env, cache) => {
    const events: DownloadProgress[] = [];
    const dir = await resolveModelFolder(REPO, { env, onProgress: (p) => events.push(p) });
    const storage = join(cache, STORAGE);
    assert.equal(dir, join(storage, 'snapshots', hub.commit));
    assert.deepEqual(
      readdirSync(dir).sort(),
      ['config.json', 'model.safetensors', 'tokenizer.json'],
      'no pickle, no README',
    );
    assert.equal(readFileSync(join(storage, 'refs', 'main'), 'utf8'), hub.commit);
    // Snapshot entries are relative symlinks to blobs named by sha256 (LFS) or git sha1.
    assert.equal(readlinkSync(join(dir, 'model.safetensors')), join('..', '..', 'blobs', modelSha));
    const config = readFileSync(join(BERT, 'config.json'));
    assert.equal(readlinkSync(join(dir, 'config.json')), join('..', '..', 'blobs', gitBlobSha1(config)));
    assert.deepEqual(readFileSync(join(dir, 'config.json')), config);
    assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), model);
    assert.deepEqual(
      readdirSync(join(storage, 'blobs')).sort(),
      [gitBlobSha1(config), gitBlobSha1(readFileSync(join(BERT, 'tokenizer.json'))), modelSha].sort(),
    );
    using ck = openCheckpoint(dir);
    assert.deepEqual(ck.info('classifier.weight').shape, [3, 32]);
    ck.close();
    // The protocol: API listing, HEAD per file, LFS body from the CDN origin, no token anywhere.
    assert.deepEqual(
      hub.requests
        .filter((r) => r.server === 'hub')
        .map((r) => `${r.method} ${r.path}`)
        .slice(0, 2),
      [`GET /api/models/${REPO}/revision/main`, `HEAD /${REPO}/resolve/${hub.commit}/config.json`],
    );
    assert.deepEqual(
      hub.requests.filter((r) => r.server === 'cdn').map((r) => `${r.method} ${r.path}`),
      [`GET /blobs/${modelSha}`],
    );
    assert.ok(hub.requests.every((r) => r.authorization === undefined));
    const last = events.filter((e) => e.file === 'model.safetensors').at(-1)!;
    assert.deepEqual([last.received, last.total, last.done], [model.byteLength, model.byteLength, true]);

    // A second online load downloads nothing again.
    const before = hub.requests.filter((r) => r.method === 'GET' && r.server === 'cdn').length;
    assert.equal(await resolveModelFolder(REPO, { env, onProgress: false }), dir);
    assert.equal(hub.requests.filter((r) => r.method === 'GET' && r.server === 'cdn').length, before);

    await hub.stop();
    const n = hub.requests.length;
    assert.equal(await resolveModelFolder(REPO, { env: { ...env, HF_HUB_OFFLINE: '1' } }), dir);
    assert.equal(hub.requests.length, n, 'offline: no request at all');
    // Server down without the offline flag: the cached revision is still used.
    assert.equal(await resolveModelFolder(REPO, { env, onProgress: false }), dir);
    assert.equal(
      await downloadHubFile(REPO, 'config.json', { env: { ...env, HF_HUB_OFFLINE: 'true' } }),
      join(dir, 'config.json'),
    );
    await assert.rejects(
      resolveModelFolder('tandem-test/other', { env: { ...env, HF_HUB_OFFLINE: '1' } }),
      /HF_HUB_OFFLINE is set and tandem-test\/other@main is not in the cache/,
    );
    await assert.rejects(
      resolveModelFolder('tandem-test/other', { env, onProgress: false }),
      /cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/models\/tandem-test\/other\/revision\/main/,
    );
  });
});

test('a download cut in the middle resumes with a Range request', async () => {
  await withHub(async (hub, env, cache) => {
    hub.cutNextGetAfter = 50_000;
    const dir = await resolveModelFolder(REPO, { env, onProgress: false });
    assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), model);
    const gets = hub.requests.filter((r) => r.server === 'cdn');
    assert.deepEqual(
      gets.map((r) => r.range),
      [undefined, 'bytes=50000-'],
    );

    // An .incomplete file left by an earlier process is resumed too.
    rmSync(join(cache, STORAGE), { recursive: true });
    mkdirSync(join(cache, STORAGE, 'blobs'), { recursive: true });
    writeFileSync(join(cache, STORAGE, 'blobs', `${modelSha}.incomplete`), model.subarray(0, 1234));
    hub.requests.length = 0;
    await resolveModelFolder(REPO, { env, onProgress: false });
    assert.deepEqual(
      hub.requests.filter((r) => r.server === 'cdn').map((r) => r.range),
      ['bytes=1234-'],
    );
    assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), model);
    assert.ok(!existsSync(join(cache, STORAGE, 'blobs', `${modelSha}.incomplete`)));

    // One longer than the file cannot be a prefix of it: discarded, downloaded from the start.
    rmSync(join(cache, STORAGE), { recursive: true });
    mkdirSync(join(cache, STORAGE, 'blobs'), { recursive: true });
    writeFileSync(join(cache, STORAGE, 'blobs', `${modelSha}.incomplete`), Buffer.alloc(model.byteLength + 1));
    hub.requests.length = 0;
    await resolveModelFolder(REPO, { env, onProgress: false });
    assert.deepEqual(
      hub.requests.filter((r) => r.server === 'cdn').map((r) => r.range),
      [undefined],
    );
    assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), model);
  });
});

test('a wrong hash or size is rejected and nothing partial reaches the snapshot', async () => {
  await withHub(async (hub, env, cache) => {
    const storage = join(cache, STORAGE);
    const snapFile = join(storage, 'snapshots', hub.commit, 'model.safetensors');
    hub.corrupt = true;
    const config = readFileSync(join(BERT, 'config.json'));
    await assert.rejects(
      resolveModelFolder(REPO, { env, onProgress: false }),
      new RegExp(
        `tiny-bert/config.json: git blob sha1 mismatch: expected ${gitBlobSha1(config)}, got [0-9a-f]{40}; the partial file was removed`,
      ),
    );
    await assert.rejects(
      downloadHubFile(REPO, 'model.safetensors', { env, onProgress: false }),
      new RegExp(
        `tiny-bert/model.safetensors: sha256 mismatch: expected ${modelSha}, got [0-9a-f]{64}; the partial file was removed`,
      ),
    );
    assert.ok(!lstatExists(join(storage, 'snapshots')), 'no snapshot entry at all');
    assert.deepEqual(readdirSync(join(storage, 'blobs')), [], 'no blob and no .incomplete left');

    hub.corrupt = false;
    hub.wrongSize = true;
    await assert.rejects(
      downloadHubFile(REPO, 'model.safetensors', { env, onProgress: false }),
      new RegExp(`model.safetensors: size mismatch: expected ${model.byteLength + 7} bytes, got ${model.byteLength}`),
    );
    assert.ok(!lstatExists(snapFile));
    assert.deepEqual(readdirSync(join(storage, 'blobs')), []);

    hub.wrongSize = false; // healthy again: the same cache completes
    const dir = await resolveModelFolder(REPO, { env, onProgress: false });
    assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), model);
  });
});

test('HF_TOKEN is sent as a bearer token to the Hub, never to the CDN; without it a private repo is explained', async () => {
  await withHub(async (hub, env) => {
    hub.requireToken = 'hf_secret';
    await assert.rejects(
      resolveModelFolder(REPO, { env, onProgress: false }),
      /repository 'tandem-test\/tiny-bert' not found .*HTTP 401.*set HF_TOKEN/,
    );
    const dir = await resolveModelFolder(REPO, { env: { ...env, HF_TOKEN: 'hf_secret' }, onProgress: false });
    assert.ok(existsSync(join(dir, 'model.safetensors')));
    const hubReqs = hub.requests.filter((r) => r.server === 'hub').slice(1);
    assert.ok(hubReqs.length >= 4 && hubReqs.every((r) => r.authorization === 'Bearer hf_secret'));
    assert.ok(hub.requests.filter((r) => r.server === 'cdn').every((r) => r.authorization === undefined));
  });
});

test('bad ids, unknown revisions and pickle-only repos give clear errors', async () => {
  await withHub(async (hub, env) => {
    await assert.rejects(resolveModelFolder('./no/such/folder', { env }), /no such model folder$/);
    await assert.rejects(resolveModelFolder('bad id!', { env }), /not a valid Hub repo id/);
    await assert.rejects(
      resolveModelFolder(REPO, { env, revision: 'v9', onProgress: false }),
      /revision not found in 'tandem-test\/tiny-bert'/,
    );
    await assert.rejects(
      resolveModelFolder(REPO, { env, revision: '../../escape' }),
      /revision "..\/..\/escape" is not a valid branch/,
    );
    hub.files.delete('model.safetensors');
    await assert.rejects(
      resolveModelFolder(REPO, { env, requireWeights: true, onProgress: false }),
      /has no safetensors weights\. pytorch_model\.bin: PyTorch pickle weights/,
    );
  });
});

test('concurrent loads share one download; a lock left by a dead process is taken over', async () => {
  await withHub(async (hub, env, cache) => {
    const [a, b] = await Promise.all([
      resolveModelFolder(REPO, { env, onProgress: false }),
      resolveModelFolder(REPO, { env, onProgress: false }),
    ]);
    assert.equal(a, b);
    assert.deepEqual(readFileSync(join(a, 'model.safetensors')), model);
    assert.equal(hub.requests.filter((r) => r.server === 'cdn').length, 1, 'the second waited for the first');

    rmSync(join(cache, STORAGE), { recursive: true });
    const lock = join(cache, '.locks', STORAGE, `${modelSha}.tandem-lock`);
    writeFileSync(lock, `${hostname()}:999999999`); // no such pid
    const dir = await resolveModelFolder(REPO, { env, onProgress: false });
    assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), model);
    assert.ok(!existsSync(lock), 'lock released');
  });
});

test('progress on stderr: a redrawn bar with bytes/s on a TTY, one line per file otherwise', () => {
  const out: string[] = [];
  const fake = (isTTY: boolean): NodeJS.WriteStream =>
    ({ isTTY, write: (s: string) => out.push(s) }) as unknown as NodeJS.WriteStream;
  const tty = stderrProgress(fake(true));
  tty({
    repoId: 'o/n',
    file: 'model.safetensors',
    received: 5_000_000,
    total: 10_000_000,
    bytesPerSecond: 2_500_000,
    done: false,
  });
  tty({
    repoId: 'o/n',
    file: 'model.safetensors',
    received: 10_000_000,
    total: 10_000_000,
    bytesPerSecond: 2_500_000,
    done: true,
  });
  assert.equal(out[0], '\ro/n/model.safetensors [############............] 5.0 MB/10.0 MB 2.5 MB/s\x1b[K');
  assert.equal(out[1], '\ro/n/model.safetensors [########################] 10.0 MB/10.0 MB 2.5 MB/s\x1b[K\n');
  out.length = 0;
  const log = stderrProgress(fake(false));
  for (const received of [0, 100, 200])
    log({ repoId: 'o/n', file: 'config.json', received, total: 885, bytesPerSecond: 0, done: false });
  log({ repoId: 'o/n', file: 'config.json', received: 885, total: 885, bytesPerSecond: 0, done: true });
  assert.deepEqual(out, ['downloading o/n/config.json (885 B)\n']);
});

test('resolveModelFile: a file as is, a folder joined, a Hub id fetching only that file and the small configs', async () => {
  await withHub(async (hub, env) => {
    assert.equal(
      await resolveModelFile(join(BERT, 'tokenizer.json'), 'tokenizer.json', { env }),
      join(BERT, 'tokenizer.json'),
    );
    assert.equal(await resolveModelFile(BERT, 'tokenizer.json', { env }), join(BERT, 'tokenizer.json'));
    await assert.rejects(
      resolveModelFile(BERT, 'preprocessor_config.json', { env }),
      new RegExp(`${BERT}: no preprocessor_config.json$`),
    );
    const path = await resolveModelFile(REPO, 'tokenizer.json', { env, onProgress: false });
    assert.equal(path, join(env.HF_HOME!, 'hub', STORAGE, 'snapshots', hub.commit, 'tokenizer.json'));
    assert.deepEqual(readdirSync(join(path, '..')).sort(), ['config.json', 'tokenizer.json']);
    assert.equal(hub.requests.filter((r) => r.server === 'cdn').length, 0, 'weights not fetched');
    await assert.rejects(
      resolveModelFile(REPO, 'preprocessor_config.json', { env, onProgress: false }),
      /tandem-test\/tiny-bert@main: the repository has no preprocessor_config\.json/,
    );
  });
});

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
