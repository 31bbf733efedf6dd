// Process groups on PyTorch's distributed engine (c10d, native/distributed.cc): the rendezvous environment of
// torchrun and SLURM, and the collectives data-parallel training needs, each bounded by a timeout. A failed
// collective names the peers that are gone when they ran on this machine (their process ids are exchanged
// through the store at start-up), since Gloo's own message only says that a connection closed.
import { hostname } from 'node:os';
import { N } from './native.js';
import { Tensor, type Device } from './tensor.js';
import { zeros } from './create.js';
import { processAlive } from '../runtime/process.js';

export type Backend = 'gloo' | 'nccl';

export interface ProcessGroupOptions {
  masterAddr: string;
  masterPort: number;
  rank: number;
  worldSize: number;
  /** Rank among the processes of this machine (picks the GPU). */
  localRank: number;
  /** Default: nccl for a CUDA device, gloo otherwise. */
  backend?: Backend;
  /** Every collective and the rendezvous wait at most this long (default 300 s, torch.distributed's 30 min is long). */
  timeoutMs?: number;
  /**
   * A launcher's agent serves the store (torchrun: TORCHELASTIC_USE_AGENT_STORE=True) and the keys of
   * restart attempt N live under their own prefix; otherwise rank 0 serves it.
   */
  agentStore?: { attempt: number };
}

export const DEFAULT_DIST_TIMEOUT_MS = 300_000;

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`environment: ${name}=${JSON.stringify(v)} is not a non-negative integer`);
  return n;
}

/** The first host of a SLURM node list ("node[01-04,07]" -> "node01", "a,b" -> "a"). */
export function firstSlurmHost(nodeList: string): string {
  const m = /^([^,[]+)(?:\[([^\]]+)\])?/.exec(nodeList.trim());
  if (!m) throw new Error(`SLURM_JOB_NODELIST ${JSON.stringify(nodeList)} is not a node list`);
  const [, prefix, ranges] = m;
  if (!ranges) return prefix!;
  const first = ranges.split(',')[0]!.split('-')[0]!;
  return prefix! + first;
}

/**
 * The process group a launcher describes, or null for a single process: torchrun's MASTER_ADDR, MASTER_PORT,
 * RANK, WORLD_SIZE, LOCAL_RANK, else SLURM's SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID with the master from
 * MASTER_ADDR or the first host of SLURM_JOB_NODELIST (port MASTER_PORT or 29500). TANDEM_DIST_TIMEOUT
 * (seconds) bounds the rendezvous and every collective.
 */
export function processGroupFromEnv(env: NodeJS.ProcessEnv = process.env): ProcessGroupOptions | null {
  const o = launcherGroup(env);
  if (!o) return null;
  const timeout = envInt(env, 'TANDEM_DIST_TIMEOUT');
  return {
    ...o,
    ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
    ...(env.TORCHELASTIC_USE_AGENT_STORE === 'True'
      ? { agentStore: { attempt: envInt(env, 'TORCHELASTIC_RESTART_COUNT') ?? 0 } }
      : {}),
  };
}

function launcherGroup(env: NodeJS.ProcessEnv): ProcessGroupOptions | null {
  const world = envInt(env, 'WORLD_SIZE');
  if (world !== undefined) {
    const rank = envInt(env, 'RANK');
    if (rank === undefined) throw new Error('environment: WORLD_SIZE is set but RANK is not (a launcher sets both)');
    const port = envInt(env, 'MASTER_PORT');
    if (!env.MASTER_ADDR || port === undefined)
      throw new Error('environment: WORLD_SIZE is set but MASTER_ADDR or MASTER_PORT is not (a launcher sets them)');
    if (world < 1 || rank >= world) throw new Error(`environment: RANK ${rank} is not below WORLD_SIZE ${world}`);
    return {
      masterAddr: env.MASTER_ADDR,
      masterPort: port,
      rank,
      worldSize: world,
      localRank: envInt(env, 'LOCAL_RANK') ?? rank,
    };
  }
  const ntasks = envInt(env, 'SLURM_NTASKS');
  if (ntasks !== undefined && ntasks > 1) {
    const rank = envInt(env, 'SLURM_PROCID');
    if (rank === undefined) throw new Error('environment: SLURM_NTASKS is set but SLURM_PROCID is not');
    const addr = env.MASTER_ADDR || (env.SLURM_JOB_NODELIST ? firstSlurmHost(env.SLURM_JOB_NODELIST) : undefined);
    if (!addr) throw new Error('environment: under SLURM, set MASTER_ADDR or run inside a job (SLURM_JOB_NODELIST)');
    return {
      masterAddr: addr,
      masterPort: envInt(env, 'MASTER_PORT') ?? 29500,
      rank,
      worldSize: ntasks,
      localRank: envInt(env, 'SLURM_LOCALID') ?? 0,
    };
  }
  return null;
}

/** The one process group of this process (torch.distributed's default group). */
export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  readonly backend: Backend;
  readonly timeoutMs: number;
  /** Each rank's host and process id, for naming a lost peer. */
  private readonly peers: { host: string; pid: number }[];

  private constructor(
    o: ProcessGroupOptions,
    backend: Backend,
    peers: { host: string; pid: number }[],
    /** This process's device (NCCL's collectives run there). */
    readonly device: Device,
  ) {
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.localRank = o.localRank;
    this.backend = backend;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_DIST_TIMEOUT_MS;
    this.peers = peers;
  }

  static init(o: ProcessGroupOptions, device: Device = 'cpu'): ProcessGroup {
    const backend = o.backend ?? (device === 'cpu' ? 'gloo' : 'nccl');
    const timeoutMs = o.timeoutMs ?? DEFAULT_DIST_TIMEOUT_MS;
    try {
      N.dist_init(
        o.masterAddr,
        o.masterPort,
        o.rank,
        o.worldSize,
        timeoutMs,
        backend,
        !o.agentStore && o.rank === 0,
        o.agentStore ? `/worker/attempt_${o.agentStore.attempt}/tandem/` : 'tandem/',
      );
    } catch (e) {
      throw new Error(
        `rank ${o.rank}: could not join the process group at ${o.masterAddr}:${o.masterPort} (world size ${o.worldSize}, backend ${backend}) within ${timeoutMs / 1000} s: ${(e as Error).message}`,
      );
    }
    N.dist_store_set(`peer/${o.rank}`, `${hostname()} ${process.pid}`);
    const peers: { host: string; pid: number }[] = [];
    for (let r = 0; r < o.worldSize; r++) {
      const [host, pid] = (N.dist_store_get(`peer/${r}`) as string).split(' ');
      peers.push({ host: host!, pid: Number(pid) });
    }
    return new ProcessGroup({ ...o, timeoutMs }, backend, peers, device);
  }

  /** Runs a collective; on failure, names the peers of this machine that have exited. */
  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const here = hostname();
      const local = this.peers.map((p, r) => ({ ...p, r })).filter((p) => p.r !== this.rank && p.host === here);
      // A killed peer's sockets close while the kernel is still tearing it down: give it a moment to go.
      let lost = local.filter((p) => !processAlive(p.pid));
      for (let waited = 0; lost.length === 0 && local.length > 0 && waited < 2000; waited += 50) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        lost = local.filter((p) => !processAlive(p.pid));
      }
      const who = lost.length
        ? `lost ${lost.map((p) => `rank ${p.r} (pid ${p.pid})`).join(', ')}`
        : 'a peer process stopped answering';
      throw new Error(`rank ${this.rank}: ${what} failed (${who}): ${(e as Error).message}`);
    }
  }

  /**
   * NCCL takes only tensors on this process's GPU: an in-place collective on a CPU tensor (counts, sums,
   * post keys) runs on a copy there, copied back.
   */
  private inPlace(t: Tensor, fn: (x: Tensor) => void): void {
    if (this.backend !== 'nccl' || t.device !== 'cpu') return fn(t);
    const d = t.to(this.device);
    try {
      fn(d);
      t.copy_(d);
    } finally {
      d.dispose();
    }
  }

  /** In-place all-reduce of one tensor (flatten a bucket of tensors into one first). */
  allReduce(t: Tensor, op: 'sum' | 'max' | 'min' = 'sum'): void {
    this.inPlace(t, (x) => this.run('all_reduce', () => N.dist_all_reduce([x.handle], op)));
  }

  /** Every rank's tensor (same shape everywhere), stacked on a new first axis [world, ...], on t's device. */
  allGather(t: Tensor): Tensor {
    if (this.backend !== 'nccl' || t.device !== 'cpu')
      return new Tensor(this.run('all_gather', () => N.dist_all_gather(t.handle)));
    const d = t.to(this.device);
    try {
      const all = new Tensor(this.run('all_gather', () => N.dist_all_gather(d.handle)));
      try {
        return all.to('cpu');
      } finally {
        all.dispose();
      }
    } finally {
      d.dispose();
    }
  }

  /** In-place broadcast of one tensor from `root`. */
  broadcast(t: Tensor, root = 0): void {
    this.inPlace(t, (x) => this.run('broadcast', () => N.dist_broadcast([x.handle], root)));
  }

  /** Waits for every rank: an all-reduce of one number (Gloo's own barrier ignores its timeout in 1.13). */
  barrier(): void {
    const one = zeros([1]);
    try {
      this.inPlace(one, (x) => this.run('barrier', () => N.dist_all_reduce([x.handle], 'sum')));
    } finally {
      one.dispose();
    }
  }

  /**
   * Gradient averaging overlapped with backward (native/distributed.cc's reducer, as DistributedDataParallel):
   * `watch` the parameters once, `beforeBackward` ahead of the backward whose gradients are to be averaged,
   * `afterBackward` after it; it returns how many buckets started while backward ran.
   */
  watchGradients(params: Tensor[], bucketBytes: number): void {
    N.dist_reducer_init(
      params.map((p) => p.handle),
      bucketBytes,
    );
  }
  beforeBackward(): void {
    N.dist_reducer_prepare();
  }
  afterBackward(): number {
    return this.run('gradient all_reduce', () => N.dist_reducer_finish());
  }

  /** Leaves the group (the process may then init another). */
  destroy(): void {
    N.dist_destroy();
  }
}
