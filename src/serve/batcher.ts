// Dynamic micro-batching: posts of concurrent requests wait in one bounded queue and run together, up to
// `maxBatch` posts or once the oldest has waited `maxWaitMs`, whichever comes first. The model runs one batch
// at a time (libtorch already uses every core for one batch); a request with many posts is split across
// batches and answered when its last post is done. A request past its deadline is answered at once and its
// posts that have not started are dropped from the queue.

/** The queue cannot take the posts of a request (answered 503 with Retry-After). */
export class QueueFullError extends Error {
  constructor(
    readonly queued: number,
    readonly limit: number,
  ) {
    super(`the server is busy: ${queued} posts are queued (the limit is ${limit}); retry shortly`);
  }
}

/** A request's deadline passed before all its posts were predicted (answered 504). */
export class DeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the prediction did not finish within ${timeoutMs} ms`);
  }
}

/** The batcher is shutting down and takes no new work (answered 503). */
export class ClosingError extends Error {
  constructor() {
    super('the server is shutting down');
  }
}

export interface BatcherOptions {
  /** Most posts in one forward pass. */
  maxBatch: number;
  /** Longest time the oldest queued post waits for others before its batch runs. */
  maxWaitMs: number;
  /** Most posts waiting (not yet running); beyond it submit() rejects with QueueFullError. */
  maxQueue: number;
  /**
   * Requests on their way to the queue (being read or decoded). When it says 0, once the event loop has read
   * what was waiting on the sockets, the batch runs at once: no one else is known to be coming, so waiting
   * would only add latency (a lone client is not slowed down).
   */
  upstream?: () => number;
  /** Called with each batch's size and run time (metrics). */
  onBatch?: (size: number, seconds: number) => void;
  /** Called whenever the number of queued posts changes (metrics). */
  onQueueDepth?: (depth: number) => void;
}

interface Job<T, R> {
  items: T[];
  results: R[];
  remaining: number;
  done: boolean;
  resolve: (r: R[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
}

interface Slot<T, R> {
  job: Job<T, R>;
  index: number;
  enqueuedAt: number;
}

export class MicroBatcher<T, R> {
  private queue: Slot<T, R>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private hurrying = false;
  private deciding = false;
  private readonly idleWaiters: (() => void)[] = [];
  private active = 0;

  /** `run` predicts one batch (results in the items' order); a throw fails every request in the batch. */
  constructor(
    private readonly run: (items: T[]) => Promise<R[]> | R[],
    readonly o: BatcherOptions,
  ) {
    if (!(o.maxBatch >= 1) || !(o.maxQueue >= 1) || !(o.maxWaitMs >= 0))
      throw new RangeError(`batcher limits must be positive: ${JSON.stringify(o)}`);
  }

  /** Posts waiting for the model. */
  get depth(): number {
    return this.queue.length;
  }

  /** Requests submitted and not yet answered. */
  get pending(): number {
    return this.active;
  }

  /** Queues a request's items; resolves with their results in order. `timeoutMs` bounds the whole wait. */
  submit(items: T[], timeoutMs?: number): Promise<R[]> {
    if (this.closing) return Promise.reject(new ClosingError());
    if (items.length === 0) return Promise.resolve([]);
    if (this.queue.length + items.length > this.o.maxQueue)
      return Promise.reject(new QueueFullError(this.queue.length, this.o.maxQueue));
    return new Promise<R[]>((resolve, reject) => {
      const job: Job<T, R> = {
        items,
        results: new Array<R>(items.length),
        remaining: items.length,
        done: false,
        resolve,
        reject,
        timer: null,
      };
      this.active++;
      if (timeoutMs !== undefined)
        job.timer = setTimeout(() => {
          // Drop what has not started; a batch already running finishes, its results unused.
          this.queue = this.queue.filter((s) => s.job !== job);
          this.o.onQueueDepth?.(this.queue.length);
          this.finish(job, new DeadlineError(timeoutMs));
        }, timeoutMs);
      const now = Date.now();
      items.forEach((_, index) => this.queue.push({ job, index, enqueuedAt: now }));
      this.o.onQueueDepth?.(this.queue.length);
      this.schedule();
    });
  }

  private finish(job: Job<T, R>, error: Error | null): void {
    if (job.done) return;
    job.done = true;
    if (job.timer) clearTimeout(job.timer);
    this.active--;
    if (error) job.reject(error);
    else job.resolve(job.results);
    if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private schedule(): void {
    if (this.running || this.deciding || this.queue.length === 0) return;
    // Decided in the event loop's check phase, once it has read every request already waiting on the sockets
    // (those that arrived while the previous batch ran): they are then queued or counted upstream, instead of
    // the first one read running alone while the others wait in the socket buffers.
    this.deciding = true;
    setImmediate(() => {
      this.deciding = false;
      this.decide();
    });
  }

  private decide(): void {
    if (this.running || this.queue.length === 0) return;
    const waited = Date.now() - this.queue[0]!.enqueuedAt;
    if (
      this.queue.length >= this.o.maxBatch ||
      waited >= this.o.maxWaitMs ||
      this.hurrying ||
      this.o.upstream?.() === 0
    ) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.runBatch();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.decide();
      }, this.o.maxWaitMs - waited);
    }
  }

  private async runBatch(): Promise<void> {
    this.running = true;
    const slots = this.queue.splice(0, this.o.maxBatch);
    this.o.onQueueDepth?.(this.queue.length);
    const t0 = process.hrtime.bigint();
    try {
      const results = await this.run(slots.map((s) => s.job.items[s.index]!));
      this.o.onBatch?.(slots.length, Number(process.hrtime.bigint() - t0) / 1e9);
      slots.forEach((s, k) => {
        if (s.job.done) return;
        s.job.results[s.index] = results[k]!;
        if (--s.job.remaining === 0) this.finish(s.job, null);
      });
    } catch (e) {
      for (const s of slots) this.finish(s.job, e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  /** From now on runs queued posts without waiting for a batch to fill (shutting down). */
  hurry(): void {
    this.hurrying = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.schedule();
  }

  /** Takes no new requests, runs the queued ones without waiting for more, resolves when all are answered. */
  drain(): Promise<void> {
    this.closing = true;
    this.hurry();
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
