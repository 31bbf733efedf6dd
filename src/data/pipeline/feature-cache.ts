// Disk cache of a frozen image encoder's outputs, one safetensors file per image. The cache key names the
// encoder (the classifier's frozenImageKey: model + weights + processor) and the processor configuration,
// and each entry is named by the image's content sha1, so a changed model, processor or image never reads
// a stale entry. Optionally bounded: past `maxBytes` the least recently used entries are deleted.
// Several runs may share one folder at once: entries are written atomically (a temp file renamed into place),
// so a reader sees a whole entry or none, and a writer killed mid-write leaves only a temp file, which a
// later cache removes once it is old.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeAll, writeFileAtomic, writeFileAtomicWith } from '../../io/atomic-write.js';
import { safetensorsParts } from '../../io/safetensors.js';
import { loadSafetensorsFile } from '../../io/tensors.js';
import type { Tensor } from '../../tensor/index.js';
import { sha1Hex } from './keys.js';

export interface FeatureCacheOptions {
  /**
   * Upper bound on the bytes of entries in this cache's folder (default: unbounded). Keep it well above
   * (prefetch + 1) batches of features: entries looked up for batches in flight must not be evicted.
   */
  maxBytes?: number;
}

interface Entry {
  bytes: number;
  /** Larger = used more recently (file mtime order at start, then a counter). */
  used: number;
}

const TENSOR_NAME = 'features';
const HEX40 = /^[0-9a-f]{40}$/;
/** A writer's temp file (atomic-write.ts names them `.<name>.<pid>.<random>.tmp`). */
const TEMP = /^\..*\.tmp$/;
/** A temp file this old belongs to a writer that died: no live writer takes an hour over one entry. */
const STALE_TEMP_MS = 3_600_000;

/**
 * Test hook (the concurrency tests' kill-during-write): TANDEM_TEST_FEATURE_CACHE_WRITE_MS=N pauses N ms in
 * the middle of writing each entry, after its header, so that a process can be killed with a partial temp file.
 */
function pauseMidWrite(): void {
  const ms = Number(process.env.TANDEM_TEST_FEATURE_CACHE_WRITE_MS ?? 0);
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export class FeatureCache {
  /** The folder of this key's entries: <dir>/<sha1(key) prefix>. */
  readonly folder: string;
  readonly cacheKey: string;
  private readonly entries = new Map<string, Entry>();
  private clock = 0;
  private total = 0;

  /**
   * `key`: the encoder identity; give `frozenImageKey` and the PostEncoder's `processorHash` (or one string).
   */
  constructor(
    readonly dir: string,
    key: string | { frozenImageKey: string; processorHash: string },
    private readonly opts: FeatureCacheOptions = {},
  ) {
    if (opts.maxBytes !== undefined && !(opts.maxBytes > 0))
      throw new Error(`feature cache maxBytes must be positive, got ${opts.maxBytes}`);
    this.cacheKey = typeof key === 'string' ? key : `${key.frozenImageKey}|processor:${key.processorHash}`;
    this.folder = join(dir, sha1Hex(this.cacheKey).slice(0, 16));
    mkdirSync(this.folder, { recursive: true });
    const about = join(this.folder, 'cache.json');
    if (!existsSync(about))
      writeFileAtomic(about, JSON.stringify({ format: 'tandem-feature-cache', key: this.cacheKey }, null, 1) + '\n');
    this.scan();
  }

  private scan(): void {
    const found: Array<[string, number, number]> = [];
    const now = Date.now();
    for (const sub of readdirSync(this.folder)) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const name of readdirSync(join(this.folder, sub))) {
        const file = join(this.folder, sub, name);
        // another run sharing the folder may remove or rename a file between the listing and this look
        const st = statSync(file, { throwIfNoEntry: false });
        if (!st) continue;
        if (TEMP.test(name)) {
          if (now - st.mtimeMs > STALE_TEMP_MS) rmSync(file, { force: true });
          continue;
        }
        const key = name.replace(/\.safetensors$/, '');
        if (!HEX40.test(key) || name === key) continue;
        found.push([key, st.size, st.mtimeMs]);
      }
    }
    found.sort((a, b) => a[2] - b[2]);
    for (const [key, bytes] of found) {
      this.entries.set(key, { bytes, used: ++this.clock });
      this.total += bytes;
    }
  }

  private path(imageKey: string): string {
    if (!HEX40.test(imageKey)) throw new Error(`feature cache: image key must be a sha1 hex digest, got '${imageKey}'`);
    return join(this.folder, imageKey.slice(0, 2), `${imageKey}.safetensors`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes of the entries on disk. */
  get bytes(): number {
    return this.total;
  }

  /** Whether an entry exists; counts as a use (so an entry about to be read is not the next one evicted). */
  has(imageKey: string): boolean {
    const e = this.entries.get(imageKey);
    if (!e) return false;
    e.used = ++this.clock;
    return true;
  }

  /** The cached features of an image (a new CPU tensor the caller owns), or undefined on a miss. */
  get(imageKey: string): Tensor | undefined {
    const e = this.entries.get(imageKey);
    if (!e) return undefined;
    const file = this.path(imageKey);
    try {
      const { tensors, metadata } = loadSafetensorsFile(file);
      const t = tensors.get(TENSOR_NAME);
      for (const [n, x] of tensors) if (n !== TENSOR_NAME) x.dispose();
      if (t && metadata.cache_key === this.cacheKey && metadata.image_key === imageKey) {
        e.used = ++this.clock;
        return t;
      }
      t?.dispose();
    } catch {
      /* unreadable entry: dropped below and recomputed by the caller */
    }
    this.remove(imageKey);
    return undefined;
  }

  /** Stores an image's features (atomically), then evicts least recently used entries past maxBytes. */
  put(imageKey: string, features: Tensor): void {
    const file = this.path(imageKey);
    mkdirSync(join(this.folder, imageKey.slice(0, 2)), { recursive: true });
    const c = features.device === 'cpu' && features.isContiguous() ? features : features.to('cpu').contiguous();
    try {
      // (bytes() is a view of the tensor's memory: c stays alive until the file is written)
      const parts = safetensorsParts(
        { [TENSOR_NAME]: { dtype: c.dtype, shape: c.shape, data: c.bytes() } },
        { cache_key: this.cacheKey, image_key: imageKey },
      );
      writeFileAtomicWith(file, (fd) =>
        parts.forEach((p, i) => {
          writeAll(fd, p);
          if (i === 0) pauseMidWrite();
        }),
      );
    } finally {
      if (c !== features) c.dispose();
    }
    const old = this.entries.get(imageKey);
    if (old) this.total -= old.bytes;
    const bytes = statSync(file).size;
    this.entries.set(imageKey, { bytes, used: ++this.clock });
    this.total += bytes;
    this.evict(imageKey);
  }

  private remove(imageKey: string): void {
    const e = this.entries.get(imageKey);
    if (e) this.total -= e.bytes;
    this.entries.delete(imageKey);
    rmSync(this.path(imageKey), { force: true });
  }

  private evict(keep: string): void {
    const max = this.opts.maxBytes;
    if (max === undefined || this.total <= max) return;
    const byAge = [...this.entries].sort((a, b) => a[1].used - b[1].used);
    for (const [key] of byAge) {
      if (this.total <= max) break;
      if (key !== keep) this.remove(key);
    }
  }
}
