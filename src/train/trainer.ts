// The training loop: cross-entropy plus the auxiliary ITC and ITM objectives, AdamW with an optional warm-up and
// decay, optional gradient clipping, accumulation, dev evaluation each epoch with optional early stopping and a best checkpoint,
// checkpoints that hold everything a resumed run needs (optimiser, scheduler, random generator, data
// position, ITC queue), a JSONL log of every step, and Ctrl-C saving a resumable checkpoint.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { disposeBatch } from '../data/pipeline/index.js';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  getRngState,
  keep,
  manualSeed,
  noGrad,
  setRngState,
  stack,
  tensor,
  tidy,
  withPrecision,
  zerosLike,
  type Device,
  type Precision,
  type Tensor,
} from '../tensor/index.js';
import {
  AdamW,
  clipGradNorm,
  decayGroups,
  GradScaler,
  LRScheduler,
  type GradScalerState,
  type ScheduleKind,
} from '../optim/index.js';
import { loadSafetensorsFile, saveTensors } from '../io/tensors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { MultimodalClassifier, PostBatch } from '../multimodal/types.js';
import {
  classificationLoss,
  combineLosses,
  lossCoefficients,
  ItcQueue,
  itcLoss,
  itmLoss,
  multiLabelLoss,
  sampleItmPairs,
  type LossWeights,
} from '../objectives/index.js';
import { cleanTemporaries, readLink, swapSymlink, writeDirAtomic } from './atomic-dir.js';
import { formatSeconds, ProgressBar } from '../runtime/progress.js';
import { runPaths } from '../inference/run-folder.js';
import type { DataParallel } from './data-parallel.js';

// The run folder's layout is shared with inference, which reads what the trainer writes.
export { runPaths };
import type { DecayExempt } from './defaults.js';

/** Where batches come from: deterministic given (epoch, start), so that a resumed run sees the same data. */
export interface BatchSource {
  /** Batches in one epoch. */
  batchesPerEpoch(): number;
  /** The batches of `epoch` from batch index `start` on (bad rows skipped under a 'skip' policy). */
  batches(epoch: number, start: number): AsyncIterable<PostBatch>;
  /** Batches of the current epoch consumed so far, skipped ones included (the resume position). */
  position(): number;
}

export interface TrainOptions {
  out: string;
  epochs: number;
  /** Stop after this many optimiser steps (overrides epochs when smaller). */
  maxSteps?: number;
  lr: number;
  weightDecay: number;
  warmupRatio: number;
  schedule: ScheduleKind;
  maxGradNorm: number | null;
  /** Parameters weight decay skips ('none': every parameter decays, the paper's code). */
  decayExempt: DecayExempt;
  gradAccumulation: number;
  seed: number;
  aux: { itc: boolean; itm: boolean };
  weights: LossWeights;
  itmNegatives: 'random' | 'hard';
  itcQueueSize: number;
  /** Per-class weights for CE ('balanced' computed by the caller), or null. */
  classWeights: number[] | null;
  multiLabel: boolean;
  /** Metric of the dev report that picks the best checkpoint (higher is better). */
  metric: string;
  /** Epochs without dev improvement before stopping (0: never stop early). */
  patience: number;
  /** Save a resumable checkpoint every N optimiser steps (0: at epoch ends only). */
  saveEvery: number;
  progress: boolean;
  /**
   * fp32 (default), or autocast in bf16 / fp16 around the forward passes and the losses; the weights and the
   * optimiser state stay fp32. fp16 adds dynamic loss scaling (GradScaler).
   */
  precision?: Precision;
  /** Where the model lives (the autocast device); default cpu. */
  device?: Device;
}

export interface EvalResult {
  /** The metrics report (JSON-serialisable), with at least the option's metric. */
  metrics: Record<string, unknown>;
  /** The split's mean loss (unweighted cross-entropy; binary for multi-label), for the per-epoch line. */
  loss?: number;
}

export interface TrainHooks {
  /** Writes the model as a model folder (config.json, model.safetensors, tokenizer and processor files). */
  saveModel(dir: string): void;
  /** Evaluates the model on a split (eval mode is set by the trainer). */
  evaluate(split: 'dev' | 'test'): Promise<EvalResult | null>;
  /** Called with each step's log record (for tests and tools). */
  onStep?(record: StepRecord): void;
}

export interface StepRecord {
  step: number;
  epoch: number;
  lr: number;
  loss: number;
  ce: number;
  itc?: number;
  itm?: number;
  grad_norm?: number;
  /** fp16: the loss scale used for this step, and whether the step was skipped for inf/NaN gradients. */
  loss_scale?: number;
  skipped?: boolean;
  samples_per_second: number;
}

interface TrainerState {
  version: 1;
  epoch: number;
  /** Micro-batches of `epoch` already consumed. */
  position: number;
  step: number;
  best: { value: number; step: number; epoch: number } | null;
  epochsWithoutImprovement: number;
  scheduler: { current: number; baseLrs: number[] };
  optimizer: ReturnType<AdamW['stateDict']>['meta'];
  devHistory: { epoch: number; step: number; metrics: Record<string, unknown> }[];
  finished: boolean;
  precision?: Precision;
  /** fp16's loss scaler, so that a resumed run scales (and skips) exactly as an uninterrupted one. */
  scaler?: GradScalerState;
}

/** The signals that stop training after the current step with a resumable checkpoint. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];
/**
 * How ranks agree on why they stop: each adds its signal's weight and the sum says the strongest (SIGTERM, a
 * scheduler's, over SIGHUP over SIGINT) whatever mix of ranks received what.
 */
const SIGNAL_WEIGHT: Record<StopSignal, number> = { SIGINT: 1, SIGHUP: 1e3, SIGTERM: 1e6 };
const STRONGEST_FIRST = [...STOP_SIGNALS].sort((a, b) => SIGNAL_WEIGHT[b] - SIGNAL_WEIGHT[a]);

export interface TrainResult {
  status: 'finished' | 'interrupted' | 'early-stopped';
  /** What interrupted the run (status 'interrupted'). */
  signal?: StopSignal;
  steps: number;
  best: TrainerState['best'];
  dev: Record<string, unknown> | null;
  test: Record<string, unknown> | null;
}

const STATE_FILE = 'trainer_state.json';
const OPTIM_FILE = 'optimizer.safetensors';

export class Trainer {
  private readonly opt: AdamW;
  private readonly sched: LRScheduler;
  private readonly queue: ItcQueue | null;
  private readonly scaler: GradScaler | null;
  private state: TrainerState;
  private interrupted: StopSignal | null = null;

  constructor(
    readonly model: MultimodalClassifier,
    readonly train: BatchSource,
    readonly o: TrainOptions,
    readonly hooks: TrainHooks,
    /** Data parallelism over a process group: this process is one rank (rank 0 writes the run folder). */
    readonly parallel: DataParallel | null = null,
  ) {
    if (o.gradAccumulation < 1) throw new RangeError('gradAccumulation must be at least 1');
    this.opt = new AdamW(
      decayGroups(model, { weightDecay: o.weightDecay, exemptBiasAndNorm: o.decayExempt === 'bias-norm' }),
      { lr: o.lr },
    );
    const totalSteps = this.totalSteps();
    this.sched = new LRScheduler(this.opt, {
      kind: o.schedule,
      warmupSteps: Math.round(o.warmupRatio * totalSteps),
      totalSteps,
    });
    this.queue = o.aux.itc && o.itcQueueSize > 0 ? new ItcQueue(o.itcQueueSize) : null;
    this.scaler = o.precision === 'fp16' ? new GradScaler() : null;
    this.state = {
      version: 1,
      epoch: 0,
      position: 0,
      step: 0,
      best: null,
      epochsWithoutImprovement: 0,
      scheduler: this.sched.stateDict(),
      optimizer: this.opt.stateDict().meta,
      devHistory: [],
      finished: false,
      precision: o.precision ?? 'fp32',
    };
  }

  /** Optimiser steps the whole run will take. */
  totalSteps(): number {
    const perEpoch = Math.ceil(this.train.batchesPerEpoch() / this.o.gradAccumulation);
    const all = perEpoch * this.o.epochs;
    return this.o.maxSteps ? Math.min(all, this.o.maxSteps) : all;
  }

  /** Restores the last checkpoint of the run folder; returns false when there is none. */
  resume(): boolean {
    const paths = runPaths(this.o.out);
    if (this.isMain) cleanTemporaries(paths.checkpoints);
    const dir = readLink(paths.last);
    if (!dir) {
      // Killed before its first checkpoint: the run starts over, so the steps it logged will be logged again.
      this.truncateLog(0);
      return false;
    }
    const st = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as TrainerState;
    const { tensors } = loadSafetensorsFile(join(dir, OPTIM_FILE));
    const model = loadSafetensorsFile(join(dir, 'model.safetensors')).tensors;
    this.model.loadStateDict(model, { source: join(dir, 'model.safetensors') });
    const optTensors = new Map([...tensors].filter(([k]) => k.startsWith('state.')));
    this.opt.loadStateDict({ tensors: optTensors, meta: st.optimizer });
    this.sched.loadStateDict(st.scheduler);
    const rank = this.parallel?.rank ?? 0;
    const rngKey = rank === 0 ? 'rng_state' : `rng_state.rank${rank}`;
    if (!tensors.has(rngKey))
      throw new Error(
        `${join(dir, OPTIM_FILE)}: no random generator state for rank ${rank}: the run was saved with fewer processes; resume it with the same number of processes`,
      );
    setRngState(tensors.get(rngKey)!);
    if (this.queue && tensors.has('itc_queue.text'))
      this.queue.push(tensors.get('itc_queue.text')!, tensors.get('itc_queue.image')!);
    for (const t of [...tensors.values(), ...model.values()]) t.dispose();
    if ((st.precision ?? 'fp32') !== (this.o.precision ?? 'fp32'))
      throw new Error(
        `${join(dir, STATE_FILE)}: the checkpoint was trained in ${st.precision ?? 'fp32'} but the run asks for ${this.o.precision ?? 'fp32'}`,
      );
    if (this.scaler && st.scaler) this.scaler.loadStateDict(st.scaler);
    this.state = st;
    this.truncateLog(st.step);
    return true;
  }

  /** Drops log lines past `step`: they belong to steps that will be taken again. */
  private truncateLog(step: number): void {
    const log = runPaths(this.o.out).log;
    if (!this.isMain || !existsSync(log)) return;
    const kept = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l && (JSON.parse(l) as { step: number }).step <= step);
    writeFileAtomic(log, kept.map((l) => l + '\n').join(''));
  }

  /** Saves a resumable checkpoint as checkpoints/step-N and points `last` at it. */
  saveCheckpoint(): string {
    this.state.scheduler = this.sched.stateDict();
    const od = this.opt.stateDict();
    this.state.optimizer = od.meta;
    if (this.scaler) this.state.scaler = this.scaler.stateDict();
    const rng = getRngState();
    // every rank's generator (each draws its own dropout masks and negatives), and the ranks' agreement
    const rngs = this.parallel ? this.parallel.pg.allGather(rng) : null;
    this.parallel?.checkSameParameters(this.model);
    return this.publish(
      'last',
      'step-',
      (tmp) => {
        this.hooks.saveModel(tmp);
        const extra = new Map<string, Tensor>(od.tensors);
        extra.set('rng_state', rng);
        if (rngs) for (let r = 1; r < rngs.size(0); r++) extra.set(`rng_state.rank${r}`, rngs.select(0, r));
        if (this.queue?.current) {
          extra.set('itc_queue.text', this.queue.current.text);
          extra.set('itc_queue.image', this.queue.current.image);
        }
        saveTensors(join(tmp, OPTIM_FILE), extra);
        writeFileSync(join(tmp, STATE_FILE), JSON.stringify(this.state, null, 1));
      },
      () => {
        rng.dispose();
        rngs?.dispose();
      },
    );
  }

  /** Whether this process writes the run folder (rank 0, or the only process). */
  private get isMain(): boolean {
    return this.parallel?.isMain ?? true;
  }

  private saveBest(): void {
    this.publish('best', 'best-step-', (tmp) => this.hooks.saveModel(tmp));
  }

  /**
   * Writes checkpoints/<prefix><step> atomically, points the `last` or `best` link at it, and removes the
   * checkpoint the link pointed at before (`last` and `best` never share a folder: their names differ).
   */
  private publish(link: 'last' | 'best', prefix: string, fill: (tmp: string) => void, after?: () => void): string {
    const paths = runPaths(this.o.out);
    const name = `${prefix}${String(this.state.step).padStart(7, '0')}`;
    const dir = join(paths.checkpoints, name);
    try {
      if (this.isMain) {
        writeDirAtomic(dir, fill);
        const previous = readLink(paths[link]);
        swapSymlink(paths[link], join('checkpoints', name));
        if (previous && previous !== dir) rmSync(previous, { recursive: true, force: true });
      }
    } finally {
      after?.();
    }
    // the other ranks go on (and may read the checkpoint) only once it is complete
    this.parallel?.pg.barrier();
    return dir;
  }

  /** Asks the loop to stop after the current step and save a resumable checkpoint (SIGINT, SIGTERM, SIGHUP). */
  interrupt(signal: StopSignal = 'SIGINT'): void {
    this.interrupted =
      this.interrupted && SIGNAL_WEIGHT[this.interrupted] > SIGNAL_WEIGHT[signal] ? this.interrupted : signal;
  }

  /** Whether to stop now: a signal reaches the ranks separately, so they agree here and stop at the same step. */
  private stopRequested(): boolean {
    if (this.parallel) {
      const sum = this.parallel.sum(this.interrupted ? SIGNAL_WEIGHT[this.interrupted] : 0);
      this.interrupted = STRONGEST_FIRST.find((sig) => sum >= SIGNAL_WEIGHT[sig]) ?? null;
    }
    return this.interrupted !== null;
  }

  private step(batches: PostBatch[]): StepRecord {
    const t0 = process.hrtime.bigint();
    this.model.train();
    let samples = 0;
    // each micro-batch's [total, ce, itc, itm], read once after the step is queued: reading a loss waits for
    // the device, which would leave it idle while the host queues the optimiser's kernels
    const losses: Tensor[] = [];
    const scale = this.scaler?.scale;
    const params = this.model.parameters().filter((p) => p.requiresGrad);
    for (const [i, batch] of batches.entries()) {
      // data parallel: the last backward of the step starts the gradients' all-reduce as they become ready
      if (this.parallel && i === batches.length - 1) this.parallel.beforeBackward(params);
      tidy(() => {
        // Forward and losses under autocast; backward outside it, as torch.autocast recommends.
        const l = withPrecision(this.o.precision ?? 'fp32', this.o.device ?? 'cpu', () =>
          objectiveLosses(this.model, batch, this.o, this.queue, this.parallel),
        );
        const part = l.total.div(batches.length);
        (this.scaler ? this.scaler.scaleLoss(part) : part).backward();
        const none = zerosLike(l.ce);
        losses.push(keep(stack([l.total, l.ce, l.itc ?? none, l.itm ?? none].map((x) => x.detach().to('float64')))));
      });
      samples += batch.size;
    }
    const readSums = () => {
      const all = Array.from(
        tidy(() => stack(losses).toArray()),
        Number,
      );
      losses.forEach((t) => t.dispose());
      const sums = { loss: 0, ce: 0, itc: 0, itm: 0 };
      for (let b = 0; b < batches.length; b++)
        (['loss', 'ce', 'itc', 'itm'] as const).forEach((k, j) => (sums[k] += all[4 * b + j]! / batches.length));
      return sums;
    };
    let sums: ReturnType<typeof readSums> | null = null;
    if (this.parallel) {
      this.parallel.afterBackward();
      const s = readSums();
      // ce and itm were scaled so that their mean over the ranks is the global batch's; itc is global already
      const w = this.parallel.worldSize;
      s.ce = this.parallel.sum(s.ce) / w;
      s.itm = this.parallel.sum(s.itm) / w;
      samples = this.parallel.sum(samples);
      const k = lossCoefficients(this.o.aux, this.o.weights);
      s.loss = k.ce * s.ce + k.itc * s.itc + k.itm * s.itm;
      sums = s;
    }
    // fp16: true gradients before clipping; a step with inf/NaN gradients is skipped (the scaler backs off).
    const skipped = this.scaler ? this.scaler.unscale(params).foundInf : false;
    const gradNorm = this.o.maxGradNorm && !skipped ? clipGradNorm(params, this.o.maxGradNorm) : undefined;
    const lr = this.sched.lrs[0]!;
    if (!skipped) this.opt.step();
    this.scaler?.update(skipped);
    this.opt.zeroGrad();
    this.sched.step();
    this.state.step++;
    sums ??= readSums();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return {
      step: this.state.step,
      epoch: this.state.epoch,
      lr,
      loss: sums.loss,
      ce: sums.ce,
      ...(this.o.aux.itc ? { itc: sums.itc } : {}),
      ...(this.o.aux.itm ? { itm: sums.itm } : {}),
      ...(gradNorm !== undefined ? { grad_norm: gradNorm } : {}),
      ...(scale !== undefined ? { loss_scale: scale, skipped } : {}),
      samples_per_second: samples / seconds,
    };
  }

  /** Runs (or continues) training to the end; writes results.json. */
  async run(): Promise<TrainResult> {
    const o = this.o;
    const paths = runPaths(o.out);
    mkdirSync(paths.checkpoints, { recursive: true });
    const rank = this.parallel?.rank ?? 0;
    // Each rank draws its own dropout masks and ITM negatives (rank 0's are the single-process ones).
    if (this.state.step === 0 && this.state.position === 0 && this.state.epoch === 0) manualSeed(o.seed + rank);
    this.parallel?.broadcastModel(this.model);
    const total = this.totalSteps();
    const bar = new ProgressBar({ enabled: o.progress });
    let status: TrainResult['status'] = 'finished';
    // The epoch's step losses (those this process ran: after a resume, from the resumed step on).
    let epochLosses = NO_LOSSES;
    const handlers = STOP_SIGNALS.map((sig) => [sig, () => this.interrupt(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    try {
      outer: while (!this.state.finished && this.state.epoch < o.epochs && this.state.step < total) {
        const epoch = this.state.epoch;
        let group: PostBatch[] = [];
        for await (const batch of this.train.batches(epoch, this.state.position)) {
          group.push(batch);
          const index = this.train.position();
          const epochEnd = index >= this.train.batchesPerEpoch();
          if (group.length < o.gradAccumulation && !epochEnd) continue;
          const rec = this.step(group);
          disposeBatches(group);
          group = [];
          this.state.position = index;
          if (this.isMain) appendFileSync(paths.log, JSON.stringify(rec) + '\n');
          this.hooks.onStep?.(rec);
          epochLosses = addStep(epochLosses, rec);
          bar.update(() => stepLine(bar, rec, total), this.state.step >= total);
          // Let a signal's handler run: prefetched batches arrive through promises alone, and those never leave
          // the microtask queue, where signals (and a lost parent) are not seen.
          await nextTurn();
          if (this.stopRequested()) {
            bar.break();
            this.saveCheckpoint();
            status = 'interrupted';
            break outer;
          }
          if (this.state.step >= total) break;
          if (o.saveEvery > 0 && this.state.step % o.saveEvery === 0 && !epochEnd) this.saveCheckpoint();
        }
        disposeBatches(group);
        // End of an epoch (or of the step budget): evaluate, keep the best, maybe stop early.
        this.state.epoch++;
        this.state.position = 0;
        const stop = await this.endOfEpoch(bar, epochLosses);
        epochLosses = NO_LOSSES;
        this.saveCheckpoint();
        if (stop) {
          status = 'early-stopped';
          break;
        }
        // a signal during the evaluation: the checkpoint just saved is the resumable one
        if (this.stopRequested()) {
          status = 'interrupted';
          break;
        }
      }
      if (status !== 'interrupted') {
        this.state.finished = true;
        this.saveCheckpoint();
      }
    } finally {
      for (const [sig, h] of handlers) process.off(sig, h);
    }
    if (status === 'interrupted')
      return {
        status,
        signal: this.interrupted ?? 'SIGINT',
        steps: this.state.step,
        best: this.state.best,
        dev: null,
        test: null,
      };
    return this.finish(status);
  }

  private async endOfEpoch(bar: ProgressBar, train: EpochLosses): Promise<boolean> {
    // the step line ends here: the evaluation draws its own progress, then the epoch's line follows
    bar.break();
    this.model.eval();
    const dev = await this.hooks.evaluate('dev');
    this.model.train();
    if (!dev) {
      // No dev split: the latest model is the best.
      this.state.best = { value: NaN, step: this.state.step, epoch: this.state.epoch };
      this.saveBest();
      this.epochLine(bar, train, null, false);
      return false;
    }
    const value = Number(dev.metrics[this.o.metric]);
    if (!Number.isFinite(value))
      throw new Error(
        `the dev metrics have no numeric '${this.o.metric}' (have: ${Object.keys(dev.metrics).join(', ')})`,
      );
    this.state.devHistory.push({ epoch: this.state.epoch, step: this.state.step, metrics: dev.metrics });
    const improved = !this.state.best || !(value <= this.state.best.value);
    this.epochLine(bar, train, dev, improved);
    if (improved) {
      this.state.best = { value, step: this.state.step, epoch: this.state.epoch };
      this.state.epochsWithoutImprovement = 0;
      this.saveBest();
      return false;
    }
    this.state.epochsWithoutImprovement++;
    return this.o.patience > 0 && this.state.epochsWithoutImprovement >= this.o.patience;
  }

  /** The epoch's summary on stderr, whether or not progress is shown (the main process only). */
  private epochLine(bar: ProgressBar, train: EpochLosses, dev: EvalResult | null, best: boolean): void {
    if (!this.isMain) return;
    bar.break();
    process.stderr.write(
      epochSummary(this.state.epoch, this.o.epochs, this.state.step, train, dev, this.o.metric, best) + '\n',
    );
  }

  private async finish(status: TrainResult['status']): Promise<TrainResult> {
    const paths = runPaths(this.o.out);
    // Final numbers come from the best checkpoint.
    const best = readLink(paths.best);
    if (best) {
      const sd = loadSafetensorsFile(join(best, 'model.safetensors')).tensors;
      this.model.loadStateDict(sd, { source: join(best, 'model.safetensors') });
      for (const t of sd.values()) t.dispose();
    }
    this.model.eval();
    // The best checkpoint's dev metrics were measured when it was chosen: only the test split is new.
    const known = this.state.best
      ? this.state.devHistory.find((h) => h.step === this.state.best!.step && h.epoch === this.state.best!.epoch)
      : undefined;
    const dev = known ? { metrics: known.metrics } : await this.hooks.evaluate('dev');
    const test = await this.hooks.evaluate('test');
    return {
      status,
      steps: this.state.step,
      best: this.state.best,
      dev: dev?.metrics ?? null,
      test: test?.metrics ?? null,
    };
  }

  get currentState(): Readonly<TrainerState> {
    return this.state;
  }
}

/** The options objectiveLosses reads. */
export type ObjectiveOptions = Pick<TrainOptions, 'multiLabel' | 'classWeights' | 'aux' | 'itmNegatives' | 'weights'>;

/**
 * One batch's losses: CE on the pair, ITC on the unimodal embeddings (with duplicate keys masked and the
 * queue's negatives), ITM on pairs sampled from the batch (the unimodal encodings reused through
 * encodeMismatched), and their weighted total. Call inside tidy(); backward on `total`.
 */
export function objectiveLosses(
  model: MultimodalClassifier,
  batch: PostBatch,
  o: ObjectiveOptions,
  queue: ItcQueue | null = null,
  parallel: DataParallel | null = null,
): { total: Tensor; ce: Tensor; itc: Tensor | null; itm: Tensor | null } {
  const enc = model.encode(batch);
  const logits = model.classify(enc.pair);
  const labels = batch.labels;
  if (!labels) throw new Error('training batch without labels');
  let ce = o.multiLabel
    ? multiLabelLoss(logits, labels)
    : classificationLoss(logits, labels, { classWeights: o.classWeights });
  // Data parallel: a mean over this rank's posts becomes its share of the global batch's mean, times the
  // world size (the gradients are averaged over the ranks).
  if (parallel) ce = ce.mul(globalShare(parallel, ceWeightSum(labels, o)));
  let itc: Tensor | null = null;
  let itm: Tensor | null = null;
  let similarity: Tensor | undefined;
  if (o.aux.itc) {
    const r = itcLoss(enc.textEmbeds, enc.imageEmbeds, model.logitScale, {
      textKeys: batch.textKeys,
      imageKeys: batch.imageKeys,
      queue: queue?.current ?? null,
      gather: parallel,
    });
    itc = r.loss;
    similarity = r.logitsPerImage.slice(0, r.offset, r.offset + batch.size).slice(1, r.offset, r.offset + batch.size);
    queue?.push(r.textNorm, r.imageNorm);
  }
  if (o.aux.itm) {
    if (o.itmNegatives === 'hard' && !similarity)
      similarity = noGrad(() => enc.imageEmbeds.matmul(enc.textEmbeds.transpose(0, 1)));
    const s = sampleItmPairs(batch.size, { mode: o.itmNegatives, textKeys: batch.textKeys, similarity });
    const pair = s.textIndex.every((j, i) => j === i) ? enc.pair : model.encodeMismatched(batch, enc, s.textIndex);
    itm = itmLoss(model.matchLogits(pair), tensor(s.labels.map(BigInt), { device: logits.device }));
    if (parallel) itm = itm.mul(globalShare(parallel, batch.size));
  }
  // ITC is the global batch's on every rank and its gradient reaches only the local rows: the average over
  // the ranks needs it times the world size
  const itcTerm = itc && parallel ? itc.mul(parallel.worldSize) : itc;
  return { total: combineLosses({ ce, itc: itcTerm, itm }, o.weights), ce, itc, itm };
}

/** The denominator of this batch's CE mean: the posts' class weights (1 each without), or B·C for BCE. */
function ceWeightSum(labels: Tensor, o: ObjectiveOptions): number {
  if (o.multiLabel) return labels.numel;
  if (!o.classWeights) return labels.size(0);
  return labels.toArray().reduce((s, y) => s + o.classWeights![y]!, 0);
}

/** local / global · world size, for a mean over `local` of a global batch. */
function globalShare(parallel: DataParallel, local: number): number {
  return (local / parallel.sum(local)) * parallel.worldSize;
}

function disposeBatches(batches: PostBatch[]): void {
  for (const b of batches) disposeBatch(b);
}

/** Sums of one epoch's step losses. */
export interface EpochLosses {
  sum: number;
  ce: number;
  itc?: number;
  itm?: number;
  steps: number;
}

const NO_LOSSES: EpochLosses = { sum: 0, ce: 0, steps: 0 };

function addStep(e: EpochLosses, rec: StepRecord): EpochLosses {
  return {
    sum: e.sum + rec.loss,
    ce: e.ce + rec.ce,
    ...(rec.itc !== undefined ? { itc: (e.itc ?? 0) + rec.itc } : {}),
    ...(rec.itm !== undefined ? { itm: (e.itm ?? 0) + rec.itm } : {}),
    steps: e.steps + 1,
  };
}

/** Dev metrics shown after the selection metric, when the report has them. */
const EPOCH_METRICS = ['accuracy', 'f1_macro', 'f1_weighted', 'auroc', 'subset_accuracy', 'f1_micro'];

/**
 * `epoch 2/3 (step 24): train loss 0.6712 (ce 0.6523 itc 1.8012 itm 0.6931) | dev loss 0.6612 | dev f1_macro
 * 0.7500 (best) accuracy 0.7600 f1_weighted 0.7512`: the means of the epoch's steps, the dev loss, the
 * selection metric and the other main dev metrics.
 */
export function epochSummary(
  epoch: number,
  epochs: number,
  step: number,
  train: EpochLosses,
  dev: EvalResult | null,
  metric: string,
  best: boolean,
): string {
  const n = train.steps;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));
  const parts = [`epoch ${epoch}/${epochs} (step ${step}):`];
  if (n > 0) {
    const aux = [`ce ${f(train.ce / n)}`];
    if (train.itc !== undefined) aux.push(`itc ${f(train.itc / n)}`);
    if (train.itm !== undefined) aux.push(`itm ${f(train.itm / n)}`);
    parts.push(`train loss ${f(train.sum / n)} (${aux.join(' ')})`);
  } else parts.push('train loss - (no step in this process)');
  if (!dev) return parts.concat('| no dev split').join(' ');
  if (dev.loss !== undefined) parts.push(`| dev loss ${f(dev.loss)}`);
  const shown = [metric, ...EPOCH_METRICS.filter((m) => m !== metric)].filter(
    (m) => typeof dev.metrics[m] === 'number',
  );
  parts.push(
    `| dev ${shown.map((m, i) => `${m} ${f(dev.metrics[m] as number)}${i === 0 && best ? ' (best)' : ''}`).join(' ')}`,
  );
  return parts.join(' ');
}

/** The progress line of a step: `train ####.... 12/40 loss 0.6931 ce 0.6931 itc ... 8.0 samples/s eta 1m05s`. */
function stepLine(bar: ProgressBar, rec: StepRecord, total: number): string {
  const losses = Object.entries({ loss: rec.loss, ce: rec.ce, itc: rec.itc, itm: rec.itm })
    .filter(([, v]) => v !== undefined && Number.isFinite(v))
    .map(([k, v]) => `${k} ${v!.toFixed(4)}`);
  const frac = total > 0 ? Math.min(1, rec.step / total) : 0;
  const elapsed = bar.elapsedSeconds();
  const eta = frac > 0 ? elapsed / frac - elapsed : 0;
  const rate = `${rec.samples_per_second.toFixed(1)} samples/s`;
  return `train ${ProgressBar.bar(frac)} ${rec.step}/${total} ${losses.join(' ')} ${rate} eta ${formatSeconds(eta)}`;
}
