// A small pool of worker threads that decode and preprocess images, so that the training step on the main
// thread (synchronous libtorch work) runs while the next batches' images are prepared. Jobs are handed to a
// worker as soon as they are submitted (each worker queues its own), so the workers keep going even while
// the main thread is busy and cannot dispatch anything.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { runImageJob, type ImageJob, type ImageResult } from './image-job.js';

interface Pending {
  resolve: (r: ImageResult) => void;
  reject: (e: Error) => void;
  worker: number;
}

/** Default pool size: min(2, cores). */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

// The worker's file beside this one: compiled .js, or under tsx (development, tests) the .ts source, which a
// worker can only load after registering tsx's loader itself (Node 20 does not pass loader hooks to workers).
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./image-worker.js', import.meta.url));
  const url = new URL('./image-worker.ts', import.meta.url).href;
  // Resolved here: the eval'd code would resolve 'tsx' from the current folder, which may be anywhere.
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(code, { eval: true });
}

export class ImagePool {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private failure: Error | null = null;

  /** `size` 0 runs the jobs on the main thread (no overlap; for tests, tools and tiny runs). */
  constructor(readonly size: number = defaultWorkerCount()) {
    if (!Number.isInteger(size) || size < 0)
      throw new Error(`image workers must be a non-negative integer, got ${size}`);
  }

  /** Starts the workers now rather than on the first job (their start-up then does not delay the first batch). */
  start(): void {
    for (let i = this.workers.length; i < this.size; i++) this.spawn(i);
  }

  private spawn(i: number): void {
    const w = startWorker();
    w.on('message', (msg: { id: number; res: ImageResult }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      this.settled(p.worker);
      p.resolve(msg.res);
    });
    w.on('error', (e) => this.fail(new Error(`image worker ${i} failed: ${e.message}`)));
    w.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`image worker ${i} exited with code ${code}`));
    });
    // Idle workers must not keep the process alive; the pool refs them while jobs are outstanding. (After the
    // listeners: adding a 'message' listener refs the worker's port again.)
    w.unref();
    this.workers[i] = w;
    this.load[i] = 0;
  }

  private settled(i: number): void {
    this.load[i]!--;
    if (this.load[i] === 0) this.workers[i]!.unref();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(e);
    }
  }

  /** Runs one job; resolves with its result (bad images are results, not rejections). */
  run(job: ImageJob): Promise<ImageResult> {
    if (this.closed) return Promise.reject(new Error('image pool is closed'));
    if (this.failure) return Promise.reject(this.failure);
    if (this.size === 0) return runImageJob(job);
    this.start();
    // The least loaded worker; ties go to the lowest index.
    let best = 0;
    for (let i = 1; i < this.size; i++) if (this.load[i]! < this.load[best]!) best = i;
    const id = this.nextId++;
    // Bytes travel in a buffer of their own, moved rather than copied again: the caller's may be a view into
    // a larger one (a request body, Node's shared pool) that must neither be sent whole nor detached.
    const bytes = job.bytes ? new Uint8Array(job.bytes) : null;
    return new Promise<ImageResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: best });
      if (this.load[best]!++ === 0) this.workers[best]!.ref();
      if (bytes) this.workers[best]!.postMessage({ id, job: { ...job, bytes } }, [bytes.buffer]);
      else this.workers[best]!.postMessage({ id, job });
    });
  }

  /** Stops the workers; outstanding jobs are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('image pool is closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
