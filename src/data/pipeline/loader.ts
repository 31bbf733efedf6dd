// Batches for training and evaluation in a deterministic order (a seeded shuffle per epoch), resumable
// mid-epoch from {epoch, position}, with the images of the next batches decoded and preprocessed in worker
// threads while the caller's (synchronous) step runs.
import type { Row } from '../rows.js';
import { SeededRandom } from '../../runtime/random.js';
import type { PostBatch } from '../../multimodal/types.js';
import { fromBuffer, stack, tidy, type Device, type Tensor } from '../../tensor/index.js';
import { BadRowLog, type BadRowPolicy } from './bad-rows.js';
import { toPostBatch, type HostBatch, type PostEncoder } from './encoder.js';
import type { FeatureCache } from './feature-cache.js';
import { ImagePool } from './image-pool.js';

export const DEFAULT_SEED = 42;
export const DEFAULT_PREFETCH = 2;

/** Where a run is in its data: the next batch to take is batch `position` of epoch `epoch`. */
export interface LoaderState {
  epoch: number;
  position: number;
  /** Checked on restore when present: the order depends on both. */
  seed?: number;
  rows?: number;
}

export interface FeatureSource {
  cache: FeatureCache;
  /**
   * The frozen encoder on pixels [N, 3, H, W] -> features [N, ...]; called on the main thread (wrap in noGrad)
   * with the missing images of a batch only. It must give an image the bits the forward pass gives it in its
   * whole batch: the model's frozenImageFeatures with a chunk size set (frozen-chunks.ts) does.
   */
  compute: (pixels: { pixel_values: Tensor; pixel_mask?: Tensor }) => Tensor;
}

export interface BatchLoaderOptions {
  batchSize: number;
  /** Base seed; epoch e is shuffled with seed + e (default 42). */
  seed?: number;
  /** Shuffle each epoch (default true; false keeps the rows' order, for evaluation). */
  shuffle?: boolean;
  /** Leave out the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Batches prepared ahead of the one being consumed (default 2; 0 prepares each batch only when asked for). */
  prefetch?: number;
  /** Image worker threads (default min(2, cores); 0 decodes on the main thread), or a pool to share. */
  workers?: number | ImagePool;
  /** What to do with a row whose image fails to decode during an epoch (default 'error'). Run validateRows first. */
  onBadRow?: BadRowPolicy;
  /** The pre-flight's log (validateRows(...).log), so that `badRows` reports both. */
  preflight?: BadRowLog;
  /** Device of the batch tensors (default CPU). */
  device?: Device;
  /** Frozen image encoder: batches carry `image.features` from this cache, computing and storing the missing ones. */
  features?: FeatureSource;
  /**
   * Data parallelism: batchSize is the global batch, and this process takes its part of each one (rank r of
   * W gets positions floor(r·n/W) to floor((r+1)·n/W) of a batch of n, so parts differ by one post at most).
   * A last batch with fewer posts than processes is left out on every rank.
   */
  shard?: { rank: number; worldSize: number };
}

export class BatchLoader {
  readonly batchSize: number;
  readonly seed: number;
  private readonly pool: ImagePool;
  private readonly ownsPool: boolean;
  private readonly log: BadRowLog;
  private readonly preflight: BadRowLog | undefined;
  private readonly imageKeys = new Map<string, string>();
  private current: { epoch: number; position: number } = { epoch: 0, position: 0 };

  constructor(
    readonly rows: readonly Row[],
    readonly encoder: PostEncoder,
    private readonly opts: BatchLoaderOptions,
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
      throw new Error(`batchSize must be a positive integer, got ${opts.batchSize}`);
    const sh = opts.shard;
    if (
      sh &&
      !(
        Number.isInteger(sh.worldSize) &&
        sh.worldSize >= 1 &&
        Number.isInteger(sh.rank) &&
        sh.rank >= 0 &&
        sh.rank < sh.worldSize
      )
    )
      throw new Error(`shard must have 0 <= rank < worldSize, got ${JSON.stringify(sh)}`);
    if (sh && opts.batchSize < sh.worldSize)
      throw new Error(`the global batch (${opts.batchSize}) is smaller than the number of processes (${sh.worldSize})`);
    const prefetch = opts.prefetch ?? DEFAULT_PREFETCH;
    if (!Number.isInteger(prefetch) || prefetch < 0)
      throw new Error(`prefetch must be a non-negative integer, got ${prefetch}`);
    if (opts.features && !encoder.readsImages)
      throw new Error('BatchLoader: a feature cache holds image features, but the encoder reads no images');
    this.batchSize = opts.batchSize;
    this.seed = opts.seed ?? DEFAULT_SEED;
    this.ownsPool = !(opts.workers instanceof ImagePool);
    this.pool = opts.workers instanceof ImagePool ? opts.workers : new ImagePool(opts.workers);
    this.log = new BadRowLog(opts.onBadRow ?? 'error');
    this.preflight = opts.preflight;
  }

  /** Batches per epoch. */
  get numBatches(): number {
    const n = this.rows.length;
    if (this.opts.dropLast) return Math.floor(n / this.batchSize);
    const last = n % this.batchSize;
    const tooSmall = this.opts.shard && last > 0 && last < this.opts.shard.worldSize;
    return Math.ceil(n / this.batchSize) - (tooSmall ? 1 : 0);
  }

  /** Rows left out so far, by reason: the pre-flight's and those found while decoding. */
  get badRows(): Record<string, number> {
    return this.badRowLog.counts;
  }

  /** The same rows with their ids and details (the pre-flight's first). */
  get badRowLog(): BadRowLog {
    const all = new BadRowLog('skip');
    if (this.preflight) all.merge(this.preflight);
    all.merge(this.log);
    return all;
  }

  /** The row indices of epoch `epoch`, in order. */
  order(epoch: number): number[] {
    const idx = this.rows.map((_, i) => i);
    if (this.opts.shuffle === false) return idx;
    return new SeededRandom(this.seed + epoch, 'mulberry32').shuffle(idx);
  }

  /** The row indices of each batch of an epoch. */
  batches(epoch: number): number[][] {
    const order = this.order(epoch);
    const out: number[][] = [];
    for (let k = 0; k < this.numBatches; k++) out.push(order.slice(k * this.batchSize, (k + 1) * this.batchSize));
    const shard = this.opts.shard;
    if (!shard) return out;
    const part = (b: number[], r: number) => Math.floor((r * b.length) / shard.worldSize);
    return out.map((b) => b.slice(part(b, shard.rank), part(b, shard.rank + 1)));
  }

  /** Where the data stands (saved in checkpoints). */
  state(): LoaderState {
    return { ...this.current, seed: this.seed, rows: this.rows.length };
  }

  /** Continues from a saved state: the next epoch() call without an argument resumes at its position. */
  restore(s: LoaderState): void {
    if (!Number.isInteger(s.epoch) || s.epoch < 0 || !Number.isInteger(s.position) || s.position < 0) {
      throw new Error(`data state must have non-negative integer epoch and position, got ${JSON.stringify(s)}`);
    }
    if (s.seed !== undefined && s.seed !== this.seed)
      throw new Error(`data state was saved with seed ${s.seed} but this loader has seed ${this.seed}`);
    if (s.rows !== undefined && s.rows !== this.rows.length) {
      throw new Error(
        `data state was saved for ${s.rows} rows but the loader has ${this.rows.length}: the data changed, so the order cannot be resumed`,
      );
    }
    if (s.position > this.numBatches)
      throw new Error(`data state position ${s.position} is past the ${this.numBatches} batches of an epoch`);
    this.current = { epoch: s.epoch, position: s.position };
  }

  /**
   * The batches of an epoch (default: the current one, from the restored position). A batch's tensors
   * belong to the caller (disposeBatch). State advances as batches are taken; after the last one it points
   * at the next epoch's start.
   */
  async *epoch(epoch: number = this.current.epoch): AsyncGenerator<PostBatch> {
    const batches = this.batches(epoch);
    const start = epoch === this.current.epoch ? this.current.position : 0;
    const ahead = this.opts.prefetch ?? DEFAULT_PREFETCH;
    const inflight = new Map<number, Promise<{ host: HostBatch | null; log: BadRowLog }>>();
    const launch = (k: number): void => {
      if (k >= batches.length || inflight.has(k)) return;
      // Each batch logs into its own log, merged when the batch is taken: counts never include batches a
      // resumed run will see again. Under 'error' the rejection surfaces when the batch is taken.
      const log = new BadRowLog(this.log.policy);
      const p = this.prepare(batches[k]!, log).then((host) => ({ host, log }));
      p.catch(() => {});
      inflight.set(k, p);
    };
    try {
      for (let k = start; k < batches.length; k++) {
        for (let j = k; j <= k + ahead; j++) launch(j);
        const { host, log } = await inflight.get(k)!;
        inflight.delete(k);
        this.log.merge(log);
        this.current = { epoch, position: k + 1 };
        if (!host) continue;
        yield this.toBatch(host);
      }
      this.current = { epoch: epoch + 1, position: 0 };
    } finally {
      inflight.clear();
    }
  }

  private prepare(idx: number[], log: BadRowLog): Promise<HostBatch | null> {
    const rows = idx.map((i) => this.rows[i]!);
    const f = this.opts.features;
    return this.encoder.prepare(rows, this.pool, log, f ? (key) => f.cache.has(key) : undefined, this.imageKeys);
  }

  private toBatch(host: HostBatch): PostBatch {
    const f = this.opts.features;
    if (!f) return toPostBatch(host, this.opts.device);
    const features = tidy(() => assembleFeatures(host, f, this.opts.device));
    return toPostBatch(host, this.opts.device, features);
  }

  /** Stops the image workers (when the loader made them). */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.close();
  }
}

/** [B, ...] features for a host batch: computed (and stored) for the rows with pixels, read from the cache for the rest. */
function assembleFeatures(host: HostBatch, f: FeatureSource, device?: Device): Tensor {
  const imageKeys = host.imageKeys;
  if (!imageKeys) throw new Error('feature cache: the batch has no image keys (its encoder reads no images)');
  const rowsWithPixels = host.pixelRows ?? [];
  const parts: Tensor[] = new Array(host.ids.length);
  if (host.pixels && rowsWithPixels.length) {
    const px = host.pixels;
    const [n, , H, W] = px.shape;
    const pixel_values = fromBuffer(px.data, 'float32', px.shape, device);
    const pixel_mask = px.mask ? fromBuffer(px.mask, 'int64', [n, H, W], device) : undefined;
    const out = f.compute(pixel_mask ? { pixel_values, pixel_mask } : { pixel_values });
    rowsWithPixels.forEach((row, j) => {
      const one = out.select(0, j).contiguous();
      f.cache.put(imageKeys[row]!, one);
      parts[row] = one;
    });
  }
  imageKeys.forEach((key, row) => {
    if (parts[row]) return;
    const t = f.cache.get(key);
    if (!t)
      throw new Error(
        `feature cache ${f.cache.folder}: entry ${key} (post ${host.ids[row]}) disappeared while its batch was prepared; raise maxBytes`,
      );
    parts[row] = device && device !== 'cpu' ? t.to(device) : t;
  });
  return stack(parts);
}
