// The per-run lock: held locks are respected, stale ones (dead processes) taken over, locks of other hosts left
// alone, and processes racing for the same locks (some stale) never both win one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunLock, readLock } from '../../src/study/lock.js';
import { REPO_ROOT } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-lock-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

test('a held lock is respected, released, and a stale one of a dead process taken over', () => {
  const path = join(tmp, 'a.lock');
  const lock = RunLock.tryAcquire(path)!;
  assert.ok(lock);
  assert.equal(readLock(path)!.pid, process.pid);
  assert.equal(RunLock.tryAcquire(path), null); // live holder (this process)
  lock.release();
  assert.ok(!existsSync(path));
  const dead = deadPid();
  writeFileSync(path, JSON.stringify({ host: hostname(), pid: dead, since: 'then' }));
  const again = RunLock.tryAcquire(path)!;
  assert.ok(again, 'stale lock taken over');
  assert.equal(readLock(path)!.pid, process.pid);
  again.release();
  // the study process died but its training child lives on: still held
  writeFileSync(path, JSON.stringify({ host: hostname(), pid: dead, child: process.pid, since: 'then' }));
  assert.equal(RunLock.tryAcquire(path), null);
  // another host's lock cannot be checked: left alone
  writeFileSync(path, JSON.stringify({ host: `${hostname()}-elsewhere`, pid: dead, since: 'then' }));
  assert.equal(RunLock.tryAcquire(path), null);
});

test('4 processes racing for 60 locks (a third of them stale) win each exactly once', async () => {
  const dead = deadPid();
  const paths = Array.from({ length: 60 }, (_, i) => join(tmp, `race-${i}.lock`));
  paths.forEach((p, i) => {
    if (i % 3 === 0) writeFileSync(p, JSON.stringify({ host: hostname(), pid: dead, since: 'then' }));
  });
  const mod = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'study', 'lock.js')).href;
  const script = `import { RunLock } from ${JSON.stringify(mod)};
const paths = JSON.parse(process.argv[1]);
const won = [];
for (let round = 0; round < 3; round++) for (const p of paths) if (RunLock.tryAcquire(p)) won.push(p);
console.log(JSON.stringify(won));
// hold the locks (stay alive) until the test has every answer: a dead holder's locks are stale
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));`;
  const children = Array.from({ length: 4 }, () =>
    spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(paths)]),
  );
  const outs = await Promise.all(
    children.map(
      (c) =>
        new Promise<string[]>((res, rej) => {
          let out = '';
          let err = '';
          c.stdout.on('data', (b) => {
            out += b;
            if (out.endsWith('\n')) res(JSON.parse(out) as string[]);
          });
          c.stderr.on('data', (b) => (err += b));
          c.on('close', (code) => rej(new Error(`exit ${code}: ${err}`)));
        }),
    ),
  );
  for (const c of children) c.stdin.end();
  const all = outs.flat();
  assert.equal(all.length, paths.length, `each lock won once: ${outs.map((o) => o.length).join(' + ')}`);
  assert.deepEqual([...new Set(all)].sort(), [...paths].sort());
  for (const p of paths) assert.ok(!existsSync(`${p}.takeover`), 'no takeover guard left behind');
  assert.ok(readFileSync(paths[0]!, 'utf8').includes('"pid"'));
});
