// A lock per run, so that two `study run` processes (on one machine or sharing a folder) never train the same
// run at once. The lock is a file created atomically with its full content (a hard link of a written temporary
// file fails when the lock exists); it names the host and the processes holding it. A lock whose processes
// are all dead (on this host) is stale and is taken over; taking over is itself guarded by a second lock, so
// that of two processes finding the same stale lock only one wins.
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { writeFileAtomic } from '../io/atomic-write.js';
import { processAlive } from '../runtime/process.js';

export interface LockRecord {
  host: string;
  /** The study process that took the lock. */
  pid: number;
  /** The training process it started (the run goes on while it lives, even if the study process died). */
  child?: number;
  since: string;
}

/** Reads a lock; null when there is none (or it vanished while being read). */
export function readLock(path: string): LockRecord | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as LockRecord;
  } catch {
    // not ours or damaged: treat as held by nobody alive
    return { host: hostname(), pid: -1, since: '' };
  }
}

/** Whether a lock's holder may still be running (a lock from another host is assumed live). */
export function lockAlive(rec: LockRecord): boolean {
  if (rec.host !== hostname()) return true;
  return [rec.pid, rec.child].some((p) => p !== undefined && p > 0 && processAlive(p));
}

function createExclusive(path: string, rec: LockRecord): boolean {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(tmp, 'wx');
  try {
    writeSync(fd, JSON.stringify(rec));
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

export class RunLock {
  private constructor(
    readonly path: string,
    private rec: LockRecord,
  ) {}

  /** Takes the lock at `path`, taking over a stale one; null when a live process holds it. */
  static tryAcquire(path: string): RunLock | null {
    const rec: LockRecord = { host: hostname(), pid: process.pid, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      if (createExclusive(path, rec)) return new RunLock(path, rec);
      const holder = readLock(path);
      if (holder === null) continue; // released meanwhile: try again
      if (lockAlive(holder)) return null;
      const guard = `${path}.takeover`;
      if (!createExclusive(guard, rec)) {
        const g = readLock(guard);
        // a taker that died inside its takeover leaves the guard behind: clear it for the next attempt
        if (g && !lockAlive(g)) unlinkQuiet(guard);
        return null;
      }
      try {
        // still the same stale lock (no one else took it over before we held the guard)?
        const again = readLock(path);
        if (again && JSON.stringify(again) !== JSON.stringify(holder)) return null;
        unlinkQuiet(path);
        if (createExclusive(path, rec)) return new RunLock(path, rec);
        return null;
      } finally {
        unlinkQuiet(guard);
      }
    }
    return null;
  }

  /** Records the training process, so that the lock stays live while it runs. */
  setChild(pid: number): void {
    this.rec = { ...this.rec, child: pid };
    writeFileAtomic(this.path, JSON.stringify(this.rec));
  }

  release(): void {
    const cur = readLock(this.path);
    if (cur && cur.pid === this.rec.pid && cur.host === this.rec.host) unlinkQuiet(this.path);
  }
}
