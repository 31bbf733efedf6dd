// Hugging Face Hub downloads into the Hub's own cache layout, so that files fetched here and by Python's
// huggingface_hub are shared:
//   <cache>/models--org--name/blobs/<etag>               file contents, named by git sha1 or LFS sha256
//   <cache>/models--org--name/refs/<revision>            the commit a branch or tag pointed to
//   <cache>/models--org--name/snapshots/<commit>/<file>  relative symlinks to ../../blobs/<etag>
// Protocol as huggingface_hub uses it: GET /api/models/<id>/revision/<rev> lists the files and the commit;
// HEAD /<id>/resolve/<rev>/<file> gives X-Repo-Commit, ETag / X-Linked-Etag and X-Linked-Size, with large
// (LFS) files redirected to a CDN that the GET then follows.
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { homedir, hostname } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { tempPathFor, writeAll, writeFileAtomic } from './atomic-write.js';
import { isPickleFile, pickleAdvice } from './pickle.js';
import { formatBytes, ProgressBar } from '../runtime/progress.js';

/** What a model folder needs; pickle weights are never fetched whatever the patterns say. */
export const DEFAULT_ALLOW_PATTERNS = [
  'config.json',
  '*.safetensors',
  '*.safetensors.index.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.json',
  'vocab.txt',
  'merges.txt',
  'sentencepiece.bpe.model',
  'spiece.model',
  'bpe.codes',
  'preprocessor_config.json',
  'generation_config.json',
];

const COMMIT_RE = /^[0-9a-f]{40}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const REPO_ID_RE = /^(?:[A-Za-z0-9][\w.-]{0,95}\/)?[A-Za-z0-9][\w.-]{0,95}$/;

export interface DownloadProgress {
  repoId: string;
  file: string;
  /** Bytes of the file on disk so far (a resumed download starts above 0). */
  received: number;
  total: number | null;
  bytesPerSecond: number;
  done: boolean;
}

export interface HubOptions {
  /** Branch, tag or commit; default 'main'. */
  revision?: string;
  /** fnmatch-style patterns over repo paths ('*' also crosses '/'); default DEFAULT_ALLOW_PATTERNS. */
  allowPatterns?: string[];
  /** Progress callback; false for silence; default: a bar on stderr when it is a TTY, else one line per file. */
  onProgress?: ((p: DownloadProgress) => void) | false;
  /** Fail unless the repo has safetensors weights (and say so when it only has pickle files). */
  requireWeights?: boolean;
  /** Environment to read HF_* variables from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

const truthy = (v: string | undefined): boolean =>
  v !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(v.toUpperCase());
const expandHome = (p: string): string => (p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p);

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE;
  if (explicit) return expandHome(explicit);
  return join(hfHome(env), 'hub');
}

function hfHome(env: NodeJS.ProcessEnv): string {
  if (env.HF_HOME) return expandHome(env.HF_HOME);
  return join(env.XDG_CACHE_HOME ? expandHome(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'huggingface');
}

export function isHubOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  return truthy(env.HF_HUB_OFFLINE) || truthy(env.TRANSFORMERS_OFFLINE);
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

/** HF_TOKEN, else the legacy variable, else the file `huggingface-cli login` writes. */
export function hubToken(env: NodeJS.ProcessEnv = process.env): string | null {
  const fromEnv = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  const file = env.HF_TOKEN_PATH ? expandHome(env.HF_TOKEN_PATH) : join(hfHome(env), 'token');
  try {
    const t = readFileSync(file, 'utf8').trim();
    return t === '' ? null : t;
  } catch {
    return null;
  }
}

export function isRepoId(s: string): boolean {
  return REPO_ID_RE.test(s) && !s.includes('--') && !s.includes('..') && !/[.-]$/.test(s);
}

/** `models--org--name`, the cache folder of a model repo. */
export function repoFolderName(repoId: string): string {
  return ['models', ...repoId.split('/')].join('--');
}

/** fnmatch semantics as huggingface_hub uses them: '*' matches any run of characters, '/' included. */
export function matchesPattern(path: string, pattern: string): boolean {
  if (pattern.endsWith('/')) pattern += '*';
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(path);
}

/** A repo path from the server must stay inside the snapshot folder. */
function safeRepoPath(p: string): boolean {
  return (
    p !== '' &&
    !p.startsWith('/') &&
    !p.includes('\\') &&
    !p.includes('\0') &&
    p.split('/').every((s) => s !== '' && s !== '.' && s !== '..')
  );
}

/** The Hub revision used when none is named. */
export const DEFAULT_REVISION = 'main';

function readRef(storage: string, revision: string): string | null {
  if (COMMIT_RE.test(revision)) return revision;
  try {
    const c = readFileSync(join(storage, 'refs', revision), 'utf8').trim();
    return COMMIT_RE.test(c) ? c : null;
  } catch {
    return null;
  }
}

/** Revisions name files under refs/, so they must be plain relative names (`main`, `v1.0`, `refs/pr/1`). */
function checkRevision(revision: string): string {
  if (!safeRepoPath(revision))
    throw new Error(`revision ${JSON.stringify(revision)} is not a valid branch, tag or commit name`);
  return revision;
}

/** The cached snapshot folder of a revision, or null when it was never downloaded. */
export function cachedSnapshot(
  repoId: string,
  revision = DEFAULT_REVISION,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  const storage = join(hubCacheDir(env), repoFolderName(repoId));
  const commit = readRef(storage, revision);
  if (commit === null) return null;
  const snap = join(storage, 'snapshots', commit);
  return existsSync(snap) ? snap : null;
}

class HubError extends Error {}

interface Ctx {
  repoId: string;
  endpoint: string;
  token: string | null;
  storage: string;
  progress: ((p: DownloadProgress) => void) | null;
  env: NodeJS.ProcessEnv;
}

function timeoutMs(env: NodeJS.ProcessEnv, name: string, fallbackSeconds: number): number {
  const v = Number(env[name]);
  return (Number.isFinite(v) && v > 0 ? v : fallbackSeconds) * 1000;
}

/** Authorization goes to the Hub endpoint only, never to the CDN a file is redirected to. */
function headersFor(ctx: Ctx, url: string, extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { 'user-agent': 'tandem/0.1 (huggingface_hub-compatible)', ...extra };
  if (ctx.token !== null && new URL(url).origin === new URL(ctx.endpoint).origin)
    h.authorization = `Bearer ${ctx.token}`;
  return h;
}

async function request(
  ctx: Ctx,
  method: string,
  url: string,
  extra: Record<string, string>,
  timeout: number | null,
): Promise<Response> {
  try {
    return await fetch(url, {
      method,
      headers: headersFor(ctx, url, extra),
      redirect: 'manual',
      signal: timeout === null ? undefined : AbortSignal.timeout(timeout),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new NetworkError(`cannot reach ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
}

class NetworkError extends HubError {}

/** Turns the Hub's error statuses (and its X-Error-Code header) into messages that say what to do. */
function httpError(ctx: Ctx, res: Response, what: string): HubError {
  res.body?.cancel().catch(() => {}); // release the connection
  const code = res.headers.get('x-error-code');
  const hint =
    ctx.token === null
      ? ' If the repository is private or gated, set HF_TOKEN.'
      : ' Check that HF_TOKEN grants access to it.';
  if (code === 'RepoNotFound' || (res.status === 401 && code === null))
    return new HubError(
      `${what}: repository '${ctx.repoId}' not found on ${ctx.endpoint} (HTTP ${res.status}).${hint}`,
    );
  if (code === 'GatedRepo')
    return new HubError(
      `${what}: repository '${ctx.repoId}' is gated (HTTP ${res.status}); accept its terms on the Hub and set HF_TOKEN.`,
    );
  if (code === 'RevisionNotFound')
    return new HubError(`${what}: revision not found in '${ctx.repoId}' (HTTP ${res.status})`);
  if (code === 'EntryNotFound') return new HubError(`${what}: file not found in '${ctx.repoId}' (HTTP ${res.status})`);
  return new HubError(`${what}: HTTP ${res.status} ${res.statusText}${res.status === 403 ? '.' + hint : ''}`);
}

const encodePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

/** GET with manual redirects: relative ones stay on the Hub, absolute ones (the CDN) drop the token. */
async function follow(
  ctx: Ctx,
  method: string,
  url: string,
  extra: Record<string, string>,
  timeout: number | null,
  followAbsolute: boolean,
): Promise<{ res: Response; url: string }> {
  for (let hops = 0; hops < 10; hops++) {
    const res = await request(ctx, method, url, extra, timeout);
    if (res.status < 300 || res.status >= 400 || res.status === 304) return { res, url };
    const loc = res.headers.get('location');
    if (loc === null) return { res, url };
    const relativeLoc = !/^[a-z][a-z0-9+.-]*:/i.test(loc);
    if (!relativeLoc && !followAbsolute) return { res, url };
    await res.body?.cancel();
    url = new URL(loc, url).toString();
  }
  throw new HubError(`too many redirects from ${url}`);
}

interface RepoInfo {
  sha: string;
  files: string[];
}

async function fetchRepoInfo(ctx: Ctx, revision: string): Promise<RepoInfo> {
  const url = `${ctx.endpoint}/api/models/${encodePath(ctx.repoId)}/revision/${encodeURIComponent(revision)}`;
  const { res } = await follow(ctx, 'GET', url, {}, timeoutMs(ctx.env, 'HF_HUB_ETAG_TIMEOUT', 10), false);
  if (!res.ok) throw httpError(ctx, res, `listing ${ctx.repoId}@${revision}`);
  let body: unknown;
  try {
    body = await res.json();
  } catch (e) {
    throw new HubError(`${url}: response is not JSON (${(e as Error).message})`);
  }
  const { sha, siblings } = (body ?? {}) as { sha?: unknown; siblings?: unknown };
  if (typeof sha !== 'string' || !COMMIT_RE.test(sha))
    throw new HubError(`${url}: response has no commit "sha" (got ${JSON.stringify(sha)})`);
  if (!Array.isArray(siblings)) throw new HubError(`${url}: response has no "siblings" list`);
  const files = siblings
    .map((s) => (s as { rfilename?: unknown }).rfilename)
    .filter((f): f is string => typeof f === 'string');
  const unsafe = files.find((f) => !safeRepoPath(f));
  if (unsafe !== undefined) throw new HubError(`${url}: refusing unsafe file name ${JSON.stringify(unsafe)}`);
  return { sha, files };
}

interface FileMeta {
  commit: string;
  etag: string;
  size: number;
  downloadUrl: string;
}

const normalizeEtag = (e: string | null): string | null =>
  e === null ? null : e.replace(/^W\//, '').replace(/^"|"$/g, '');

async function fetchFileMeta(ctx: Ctx, revision: string, file: string): Promise<FileMeta> {
  const url = `${ctx.endpoint}/${encodePath(ctx.repoId)}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
  // Relative redirects (renamed repos) are followed; the CDN redirect of LFS files carries the metadata itself.
  const { res, url: finalUrl } = await follow(
    ctx,
    'HEAD',
    url,
    { 'accept-encoding': 'identity' },
    timeoutMs(ctx.env, 'HF_HUB_ETAG_TIMEOUT', 10),
    false,
  );
  if (!(res.ok || (res.status >= 300 && res.status < 400)))
    throw httpError(ctx, res, `${ctx.repoId}/${file}@${revision}`);
  const commit = res.headers.get('x-repo-commit');
  const etag = normalizeEtag(res.headers.get('x-linked-etag') ?? res.headers.get('etag'));
  const sizeHeader = res.headers.get('x-linked-size') ?? res.headers.get('content-length');
  const where = `${finalUrl}: response`;
  if (commit === null || !COMMIT_RE.test(commit))
    throw new HubError(`${where} lacks a valid X-Repo-Commit header (is HF_ENDPOINT a Hugging Face Hub?)`);
  if (etag === null || !/^[\w.-]+$/.test(etag) || etag.startsWith('.'))
    throw new HubError(`${where} lacks a usable ETag (got ${JSON.stringify(etag)})`);
  const size = Number(sizeHeader);
  if (sizeHeader === null || !Number.isSafeInteger(size) || size < 0)
    throw new HubError(`${where} lacks the file size (X-Linked-Size / Content-Length)`);
  const loc = res.status >= 300 ? res.headers.get('location') : null;
  return { commit, etag, size, downloadUrl: loc !== null ? new URL(loc, finalUrl).toString() : finalUrl };
}

function linkSnapshot(blob: string, pointer: string): void {
  mkdirSync(dirname(pointer), { recursive: true });
  const tmp = tempPathFor(pointer);
  try {
    symlinkSync(relative(dirname(pointer), blob), tmp);
  } catch {
    copyFileSync(blob, tmp); // filesystems without symlinks get a copy, as huggingface_hub does
  }
  renameSync(tmp, pointer);
}

function writeRef(storage: string, revision: string, commit: string): void {
  if (revision === commit) return;
  const ref = join(storage, 'refs', revision);
  mkdirSync(dirname(ref), { recursive: true });
  if (existsSync(ref) && readFileSync(ref, 'utf8').trim() === commit) return;
  writeFileAtomic(ref, commit);
}

async function hashFile(path: string, algorithm: string, prefix?: Buffer): Promise<string> {
  const h = createHash(algorithm);
  if (prefix) h.update(prefix);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const fileSize = (p: string): number => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};

const MAX_STALLED_RETRIES = 5;

/**
 * Streams the file into `incomplete`, resuming from what is already there with a Range request, and retrying
 * after a broken connection as long as each attempt makes progress.
 */
async function fetchInto(ctx: Ctx, meta: FileMeta, file: string, incomplete: string): Promise<void> {
  let stalls = 0;
  for (;;) {
    let start = fileSize(incomplete);
    if (start === meta.size && start > 0) return; // finished by an earlier attempt
    if (start > meta.size) {
      rmSync(incomplete, { force: true }); // left by a different file version: useless
      start = 0;
    }
    const extra: Record<string, string> = { 'accept-encoding': 'identity' };
    if (start > 0) extra.range = `bytes=${start}-`;
    const { res } = await follow(ctx, 'GET', meta.downloadUrl, extra, null, true);
    if (res.status === 416 && start > 0) {
      await res.body?.cancel();
      return; // the server says there is nothing after `start`: let the size check judge
    }
    if (!res.ok) throw httpError(ctx, res, `downloading ${ctx.repoId}/${file}`);
    const resumed = res.status === 206;
    if (start > 0 && !resumed) rmSync(incomplete, { force: true }); // server ignored Range: start over
    const fd = openSync(incomplete, 'a');
    let received = resumed ? start : 0;
    const begun = Date.now();
    const base = received;
    let failed: unknown = null;
    try {
      if (res.body !== null) {
        for await (const chunk of res.body) {
          writeAll(fd, chunk);
          received += chunk.byteLength;
          const secs = (Date.now() - begun) / 1000;
          ctx.progress?.({
            repoId: ctx.repoId,
            file,
            received,
            total: meta.size,
            bytesPerSecond: secs > 0 ? (received - base) / secs : 0,
            done: false,
          });
        }
      }
    } catch (e) {
      failed = e;
    } finally {
      closeSync(fd);
    }
    if (failed === null) return;
    stalls = received > base ? 0 : stalls + 1;
    if (stalls >= MAX_STALLED_RETRIES)
      throw new HubError(
        `downloading ${ctx.repoId}/${file}: connection broken repeatedly (${(failed as Error).message}); run again to resume from ${received} bytes`,
      );
  }
}

/** Checks the size and content hash; a bad file is deleted, never moved into the cache. */
async function verify(ctx: Ctx, meta: FileMeta, file: string, path: string): Promise<void> {
  const size = fileSize(path);
  const reject = (why: string): never => {
    rmSync(path, { force: true });
    throw new HubError(
      `downloading ${ctx.repoId}/${file}: ${why}; the partial file was removed, nothing was added to the cache`,
    );
  };
  if (size !== meta.size) reject(`size mismatch: expected ${meta.size} bytes, got ${size}`);
  if (SHA256_RE.test(meta.etag)) {
    const got = await hashFile(path, 'sha256');
    if (got !== meta.etag) reject(`sha256 mismatch: expected ${meta.etag}, got ${got}`);
  } else if (COMMIT_RE.test(meta.etag)) {
    // Regular (non-LFS) files are named by their git blob id: sha1 of "blob <size>\0" + content.
    const got = await hashFile(path, 'sha1', Buffer.from(`blob ${size}\0`));
    if (got !== meta.etag) reject(`git blob sha1 mismatch: expected ${meta.etag}, got ${got}`);
  }
}

const LOCK_WAIT_MS = 30 * 60 * 1000;

/**
 * One writer per blob: a lock file created exclusively, holding host and pid so that a lock left by a
 * crashed process on this host is taken over. (huggingface_hub's own locks use flock, which Node lacks:
 * tandem and Python downloading the same file at the same moment are not serialised, but the size and
 * hash checks still keep a mixed-up file out of the cache.)
 */
async function acquireLock(path: string, what: string): Promise<() => void> {
  const me = `${hostname()}:${process.pid}`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, me);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (lockIsStale(path)) {
      try {
        unlinkSync(path);
      } catch {
        /* someone else took it over first */
      }
      continue;
    }
    if (Date.now() > deadline)
      throw new HubError(
        `${what}: another process has been downloading it for too long (lock ${path}; delete it if no download is running)`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

function lockIsStale(path: string): boolean {
  let owner: string;
  try {
    owner = readFileSync(path, 'utf8');
  } catch {
    return false; // vanished: the next attempt will create it
  }
  const m = /^(.*):(\d+)$/.exec(owner);
  if (m === null) {
    // Written by nobody we know, or a writer that died between create and write: trust its age.
    try {
      return Date.now() - statSync(path).mtimeMs > 10_000;
    } catch {
      return false;
    }
  }
  if (m[1] !== hostname()) return false;
  try {
    process.kill(Number(m[2]), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Downloads one file of a revision into the cache (if needed) and returns its snapshot path. */
async function downloadFile(ctx: Ctx, revision: string, file: string): Promise<string> {
  const meta = await fetchFileMeta(ctx, revision, file);
  const pointer = join(ctx.storage, 'snapshots', meta.commit, ...file.split('/'));
  const blob = join(ctx.storage, 'blobs', meta.etag);
  writeRef(ctx.storage, revision, meta.commit);
  if (existsSync(pointer) && existsSync(blob)) return pointer;
  if (!existsSync(blob)) {
    mkdirSync(dirname(blob), { recursive: true });
    const lockDir = join(dirname(ctx.storage), '.locks', basename(ctx.storage));
    mkdirSync(lockDir, { recursive: true });
    const release = await acquireLock(join(lockDir, `${meta.etag}.tandem-lock`), `${ctx.repoId}/${file}`);
    try {
      if (!existsSync(blob)) {
        // Another process may have finished it while we waited for the lock.
        const incomplete = `${blob}.incomplete`;
        await fetchInto(ctx, meta, file, incomplete);
        await verify(ctx, meta, file, incomplete);
        renameSync(incomplete, blob);
      }
    } finally {
      release();
    }
  }
  ctx.progress?.({ repoId: ctx.repoId, file, received: meta.size, total: meta.size, bytesPerSecond: 0, done: true });
  linkSnapshot(blob, pointer);
  return pointer;
}

/** The default reporter: a redrawn bar with bytes/s on a TTY, one line per file otherwise. */
export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): (p: DownloadProgress) => void {
  const bar = new ProgressBar({ stream });
  let announced = '';
  return (p) => {
    const name = `${p.repoId}/${p.file}`;
    if (!bar.tty) {
      // Logs get one line per file fetched, not a redrawn bar.
      if (!p.done && announced !== name)
        bar.log(`downloading ${name}${p.total === null ? '' : ` (${formatBytes(p.total)})`}`);
      announced = name;
      return;
    }
    bar.update(() => {
      const cells = ProgressBar.bar(p.total ? p.received / p.total : 0);
      const total = p.total === null ? '?' : formatBytes(p.total);
      return `${name.slice(-40)} [${cells}] ${formatBytes(p.received)}/${total} ${formatBytes(p.bytesPerSecond)}/s`;
    }, p.done);
  };
}

function offlineError(repoId: string, revision: string, storage: string, missing?: string): HubError {
  const what =
    missing === undefined
      ? `${repoId}@${revision} is not in the cache`
      : `${repoId}/${missing}@${revision} is not in the cache`;
  return new HubError(
    `HF_HUB_OFFLINE is set and ${what} (${storage}); download it once with the network available, or unset HF_HUB_OFFLINE`,
  );
}

/**
 * A local model folder as is, or a Hub repo id (`org/name` or `name`) downloaded into the Hub cache; returns
 * the folder to read (the snapshot of the resolved commit).
 */
export async function resolveModelFolder(idOrPath: string, opts: HubOptions = {}): Promise<string> {
  if (existsSync(idOrPath) && statSync(idOrPath).isDirectory()) return idOrPath;
  const looksLocal =
    /^(\.{1,2}[\\/]|[\\/]|~)/.test(idOrPath) || idOrPath.includes('\\') || idOrPath.split('/').length > 2;
  if (looksLocal || !isRepoId(idOrPath)) {
    throw new Error(
      `${idOrPath}: no such model folder${looksLocal ? '' : ', and not a valid Hub repo id (expected org/name)'}`,
    );
  }
  const env = opts.env ?? process.env;
  const revision = checkRevision(opts.revision ?? DEFAULT_REVISION);
  const repoId = idOrPath;
  const storage = join(hubCacheDir(env), repoFolderName(repoId));

  if (isHubOffline(env)) {
    const snap = cachedSnapshot(repoId, revision, env);
    if (snap === null) throw offlineError(repoId, revision, storage);
    return snap;
  }
  const reporter = opts.onProgress === false ? null : (opts.onProgress ?? stderrProgress());
  const ctx: Ctx = { repoId, endpoint: hubEndpoint(env), token: hubToken(env), storage, progress: reporter, env };
  let info: RepoInfo;
  try {
    info = await fetchRepoInfo(ctx, revision);
  } catch (e) {
    // Like huggingface_hub: without a network, a revision already in the cache is still usable.
    const snap = e instanceof NetworkError ? cachedSnapshot(repoId, revision, env) : null;
    if (snap !== null) return snap;
    throw e;
  }
  const patterns = opts.allowPatterns ?? DEFAULT_ALLOW_PATTERNS;
  const wanted = info.files.filter((f) => !isPickleFile(f) && patterns.some((p) => matchesPattern(f, p)));
  if (opts.requireWeights && !info.files.some((f) => f.endsWith('.safetensors'))) {
    const pickles = info.files.filter((f) => isPickleFile(f));
    throw new HubError(
      `${repoId}@${revision} has no safetensors weights. ${pickles.length > 0 ? pickleAdvice(pickles.join(', ')) : ''}`.trim(),
    );
  }
  if (wanted.length === 0)
    throw new HubError(
      `${repoId}@${revision}: none of its ${info.files.length} files match ${JSON.stringify(patterns)}`,
    );
  for (const f of wanted) await downloadFile(ctx, info.sha, f);
  writeRef(storage, revision, info.sha);
  return join(storage, 'snapshots', info.sha);
}

/** One file of a Hub repo (hf_hub_download): cached path, downloading it first when needed. */
export async function downloadHubFile(
  repoId: string,
  file: string,
  opts: Omit<HubOptions, 'allowPatterns' | 'requireWeights'> = {},
): Promise<string> {
  if (!isRepoId(repoId)) throw new Error(`${repoId}: not a valid Hub repo id (expected org/name)`);
  if (!safeRepoPath(file)) throw new Error(`${file}: not a valid path inside a repo`);
  const env = opts.env ?? process.env;
  const revision = checkRevision(opts.revision ?? DEFAULT_REVISION);
  const storage = join(hubCacheDir(env), repoFolderName(repoId));
  const cached = (): string | null => {
    const snap = cachedSnapshot(repoId, revision, env);
    const p = snap === null ? null : join(snap, ...file.split('/'));
    return p !== null && existsSync(p) ? p : null;
  };
  if (isHubOffline(env)) {
    const p = cached();
    if (p === null) throw offlineError(repoId, revision, storage, file);
    return p;
  }
  const reporter = opts.onProgress === false ? null : (opts.onProgress ?? stderrProgress());
  const ctx: Ctx = { repoId, endpoint: hubEndpoint(env), token: hubToken(env), storage, progress: reporter, env };
  try {
    return await downloadFile(ctx, revision, file);
  } catch (e) {
    const p = e instanceof NetworkError ? cached() : null;
    if (p !== null) return p;
    throw e;
  }
}

/** Whether a snapshot path is a symlink into the blobs (for tests and `tandem` diagnostics). */
export function isBlobLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * One file of a model, given as the file itself, a model folder, or a Hub repo id (for commands such as
 * `tandem tokenize --tokenizer <tokenizer.json|model dir|Hub id>`). From the Hub only that file and the small
 * configuration files beside it are fetched, not the weights.
 */
export async function resolveModelFile(
  fileOrFolderOrId: string,
  fileName: string,
  opts: HubOptions = {},
): Promise<string> {
  if (existsSync(fileOrFolderOrId) && statSync(fileOrFolderOrId).isFile()) return fileOrFolderOrId;
  const local = existsSync(fileOrFolderOrId);
  const allowPatterns = opts.allowPatterns ?? [
    fileName,
    'config.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
  ];
  const dir = await resolveModelFolder(fileOrFolderOrId, { ...opts, allowPatterns });
  const path = join(dir, ...fileName.split('/'));
  if (!existsSync(path)) {
    if (local) throw new Error(`${dir}: no ${fileName}`);
    throw new Error(
      `${fileOrFolderOrId}@${opts.revision ?? DEFAULT_REVISION}: the repository has no ${fileName} (snapshot ${dir})`,
    );
  }
  return path;
}
