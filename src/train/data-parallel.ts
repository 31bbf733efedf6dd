/**
 * Data parallelism as DistributedDataParallel does it, over a c10d process group (src/tensor/distributed.ts):
 * - the same initial parameters everywhere (broadcast from rank 0);
 * - gradients averaged by bucketed all-reduce (buckets of about 25 MB in reverse parameter order), each
 *   bucket's all-reduce started by a hook as soon as backward has produced its gradients, in the same bucket
 *   order on every rank (native/distributed.cc's reducer, as DDP's);
 * - losses scaled so that the average of the ranks' gradients is the gradient of the loss over the global
 *   batch, exactly: a mean over posts becomes (local sum) / (global count) · world size; ITC is computed over
 *   the global batch on every rank (embeddings all-gathered, gradients through the local rows only, as
 *   open_clip's gather_with_grad), so it is scaled by the world size;
 * - a parameter checksum compared across ranks at each checkpoint.
 */
import { createHash } from 'node:crypto';
import { cat, noGrad, tensor, zeros, zerosLike, type Tensor } from '../tensor/index.js';
import type { ProcessGroup } from '../tensor/distributed.js';
import type { Module } from '../nn/index.js';
import type { ItcGather } from '../objectives/index.js';

export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

/** A post key as a number that survives a float64 all-gather (48 bits of its hash). */
function keyCode(key: string): number {
  const hex = /^[0-9a-f]{12}/i.test(key) ? key.slice(0, 12) : createHash('sha1').update(key).digest('hex').slice(0, 12);
  return parseInt(hex, 16);
}

export class DataParallel implements ItcGather {
  constructor(
    readonly pg: ProcessGroup,
    readonly bucketBytes = DEFAULT_BUCKET_BYTES,
  ) {}

  get rank(): number {
    return this.pg.rank;
  }
  get worldSize(): number {
    return this.pg.worldSize;
  }
  /** Rank 0 writes logs, checkpoints and results. */
  get isMain(): boolean {
    return this.pg.rank === 0;
  }

  /** Rank 0's parameters and buffers on every rank. */
  broadcastModel(model: Module): void {
    this.bucketed([...model.stateDict().values()], (flat) => this.pg.broadcast(flat, 0));
  }

  private watched: Tensor[] | null = null;

  /**
   * Call before the backward whose gradients are to be averaged (the last of an accumulation step): each
   * bucket's all-reduce then starts during that backward as soon as its gradients are ready.
   */
  beforeBackward(params: Tensor[]): void {
    if (!this.watched || this.watched.length !== params.length || this.watched.some((p, i) => p !== params[i])) {
      this.pg.watchGradients(params, this.bucketBytes);
      this.watched = [...params];
    }
    this.pg.beforeBackward();
  }

  /** After that backward: the gradients averaged over the ranks. Returns the buckets that started during it. */
  afterBackward(): number {
    return this.pg.afterBackward();
  }

  /**
   * Runs an in-place collective on buckets of tensors (one dtype each, about bucketBytes): each bucket is
   * flattened into one tensor, the collective runs on it, and the results are copied back.
   */
  private bucketed(tensors: Tensor[], collective: (flat: Tensor) => void): void {
    noGrad(() => {
      let bucket: Tensor[] = [];
      let bytes = 0;
      const flush = () => {
        if (!bucket.length) return;
        const flat = cat(bucket.map((t) => t.reshape(-1)));
        collective(flat);
        let at = 0;
        for (const t of bucket) {
          const part = flat.narrow(0, at, t.numel).view(...t.shape);
          t.copy_(part);
          part.dispose();
          at += t.numel;
        }
        flat.dispose();
        bucket = [];
        bytes = 0;
      };
      for (const t of tensors) {
        if (t.numel === 0) continue;
        const size = t.numel * (t.dtype === 'float64' || t.dtype === 'int64' ? 8 : 4);
        if (bucket.length && (bytes + size > this.bucketBytes || t.dtype !== bucket[0]!.dtype)) flush();
        bucket.push(t);
        bytes += size;
      }
      flush();
    });
  }

  /** Every rank's count (a small all-gather). */
  sizes(n: number): number[] {
    return noGrad(() => {
      const t = tensor([n], { dtype: 'float64' });
      const all = this.pg.allGather(t);
      const out = Array.from(all.toArray(), Number);
      t.dispose();
      all.dispose();
      return out;
    });
  }

  /** The sum of a number over the ranks. */
  sum(x: number): number {
    return noGrad(() => {
      const t = tensor([x], { dtype: 'float64' });
      this.pg.allReduce(t);
      const v = t.item();
      t.dispose();
      return v;
    });
  }

  /**
   * All ranks' rows of x [b, ...] in rank order (b may differ by rank); this rank's own rows keep their
   * gradients, the others' come detached.
   */
  rows(x: Tensor): { all: Tensor; offset: number } {
    const sizes = this.sizes(x.size(0));
    const max = Math.max(...sizes);
    const gathered = noGrad(() => {
      const d = x.detach();
      // pad to the largest rank's rows (all-gather needs one shape): copies of row 0, zeroed
      // (an empty part happens only in evaluation, on the CPU)
      const pad = () =>
        d.size(0) === 0
          ? zeros([max, ...d.shape.slice(1)], { dtype: d.dtype, device: d.device })
          : zerosLike(d.narrow(0, 0, 1)).expand(max - d.size(0), ...d.shape.slice(1));
      const padded = d.size(0) < max ? cat([d, pad()]) : d;
      return this.pg.allGather(padded.contiguous());
    });
    const parts = sizes
      .map((n, r) => (r === this.rank ? x : gathered.select(0, r).narrow(0, 0, n)))
      .filter((p) => p.size(0) > 0);
    const offset = sizes.slice(0, this.rank).reduce((a, b) => a + b, 0);
    return { all: cat(parts), offset };
  }

  /** All ranks' post keys in rank order (as 48-bit codes of their hashes, the same on every rank). */
  keys(keys: readonly string[]): string[] {
    const codes = keys.map(keyCode);
    const sizes = this.sizes(codes.length);
    const max = Math.max(...sizes);
    const all = noGrad(() => {
      const t = tensor([...codes, ...new Array<number>(max - codes.length).fill(0)], { dtype: 'float64' });
      const g = this.pg.allGather(t);
      const arr = Array.from(g.toArray(), Number);
      t.dispose();
      g.dispose();
      return arr;
    });
    return sizes.flatMap((n, r) => all.slice(r * max, r * max + n).map((c) => c.toString(16)));
  }

  /** Throws naming the ranks whose parameters differ from rank 0's (sum and sum of squares in float64). */
  checkSameParameters(model: Module): void {
    const local = noGrad(() => {
      let s = 0;
      let q = 0;
      for (const p of model.parameters()) {
        const d = p.to('float64');
        s += d.sum().item();
        q += d.mul(d).sum().item();
        d.dispose();
      }
      return [s, q];
    });
    const t = tensor(local, { dtype: 'float64' });
    const all = this.pg.allGather(t);
    const v = Array.from(all.toArray(), Number);
    t.dispose();
    all.dispose();
    const bad: number[] = [];
    for (let r = 1; r < this.worldSize; r++) if (v[2 * r] !== v[0] || v[2 * r + 1] !== v[1]) bad.push(r);
    if (bad.length)
      throw new Error(
        `data parallel: the parameters of rank ${bad.join(', ')} differ from rank 0's (checksums ${v.join(', ')}): the ranks' optimiser steps diverged`,
      );
  }
}

/** Rows dealt out for evaluation: rank r of W takes rows r, r + W, r + 2W, ... */
export function evaluationShare<T>(rows: readonly T[], rank: number, worldSize: number): T[] {
  return rows.filter((_, i) => i % worldSize === rank);
}

/**
 * Every rank's predictions (probabilities and truth of its evaluationShare), back in the rows' order, so
 * that metrics equal a single process's.
 */
export function gatherPredictions(
  dp: DataParallel,
  pred: { probs: number[][]; truth: number[][] | number[] | null },
  numClasses: number,
): { probs: number[][]; truth: number[][] | number[] | null } {
  const gatherRows = (rows: number[][], width: number): number[][] =>
    noGrad(() => {
      const t = rows.length
        ? tensor(rows.flat(), { dtype: 'float64', shape: [rows.length, width] })
        : tensor([], { dtype: 'float64', shape: [0, width] });
      const { all } = dp.rows(t);
      const flat = all.toArray();
      t.dispose();
      all.dispose();
      const out: number[][] = [];
      for (let i = 0; i < flat.length / width; i++) out.push(flat.slice(i * width, (i + 1) * width));
      return out;
    });
  const sizes = dp.sizes(pred.probs.length);
  const order = (rows: number[][]): number[][] => {
    const total = sizes.reduce((a, b) => a + b, 0);
    const out = new Array<number[]>(total);
    let at = 0;
    sizes.forEach((n, r) => {
      for (let j = 0; j < n; j++) out[r + j * dp.worldSize] = rows[at + j]!;
      at += n;
    });
    return out;
  };
  const probs = order(gatherRows(pred.probs, numClasses));
  if (!pred.truth) return { probs, truth: null };
  const multi = Array.isArray(pred.truth[0]);
  const truthRows = multi ? (pred.truth as number[][]) : (pred.truth as number[]).map((y) => [y]);
  const truth = order(gatherRows(truthRows, multi ? numClasses : 1));
  return { probs, truth: multi ? truth : truth.map((r) => r[0]!) };
}
