// Atomic file writes: data goes to a temp file in the same folder, is fsynced, then renamed over the
// target, so a crash leaves either the old file or the new one, never a half-written file.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Temp path next to `path` (same folder, so rename stays on one filesystem). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes every byte of `buf` at the current position of `fd` (writeSync may write less than asked). */
export function writeAll(fd: number, buf: Uint8Array): void {
  let done = 0;
  while (done < buf.byteLength) done += writeSync(fd, buf, done, buf.byteLength - done);
}

/** Calls `fill(fd)` on a fresh temp file, then fsyncs it and renames it to `path`; cleans up on failure. */
export function writeFileAtomicWith(path: string, fill: (fd: number) => void): void {
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    fill(fd);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
  syncDir(dirname(path));
}

/** Atomically replaces `path` with `data` (one buffer, several buffers written in order, or a string). */
export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const parts = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  writeFileAtomicWith(path, (fd) => {
    for (const p of parts) writeAll(fd, p);
  });
}

/** Makes the rename itself durable; some platforms cannot open folders, which is harmless. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* best effort */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
