// Learning-rate schedules as multipliers of each group's base lr, with the shapes of Hugging Face's
// get_constant_schedule_with_warmup / get_linear_schedule_with_warmup / get_cosine_schedule_with_warmup.
import type { Optimizer } from './optimizer.js';

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface ScheduleOptions {
  kind: ScheduleKind;
  warmupSteps?: number;
  totalSteps?: number;
  /** Cosine: number of half-waves (0.5 = decay to zero once). */
  numCycles?: number;
}

/** The multiplier at a step (0-based: the step about to be taken). */
export function lrFactor(step: number, o: ScheduleOptions): number {
  const warm = o.warmupSteps ?? 0;
  if (step < warm) return step / Math.max(1, warm);
  if (o.kind === 'constant') return 1;
  const total = o.totalSteps;
  if (total === undefined) throw new RangeError(`the ${o.kind} schedule needs totalSteps`);
  const progress = (step - warm) / Math.max(1, total - warm);
  if (o.kind === 'linear') return Math.max(0, (total - step) / Math.max(1, total - warm));
  const cycles = o.numCycles ?? 0.5;
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * cycles * 2 * progress)));
}

/** Sets each group's lr to base lr × factor(step). Call `step()` after each optimiser step. */
export class LRScheduler {
  readonly baseLrs: number[];
  current = 0;
  constructor(
    readonly optimizer: Optimizer,
    readonly opts: ScheduleOptions,
  ) {
    this.baseLrs = optimizer.groups.map((g) => g.lr);
    this.apply();
  }
  private apply(): void {
    const f = lrFactor(this.current, this.opts);
    this.optimizer.groups.forEach((g, i) => (g.lr = this.baseLrs[i]! * f));
  }
  step(): void {
    this.current++;
    this.apply();
  }
  /** For resume. */
  stateDict(): { current: number; baseLrs: number[] } {
    return { current: this.current, baseLrs: [...this.baseLrs] };
  }
  loadStateDict(s: { current: number; baseLrs: number[] }): void {
    this.current = s.current;
    s.baseLrs.forEach((v, i) => (this.baseLrs[i] = v));
    this.apply();
  }
  get lrs(): number[] {
    return this.optimizer.groups.map((g) => g.lr);
  }
}
