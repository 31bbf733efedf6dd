// kill -9 at any moment: a tiny run (checkpoint after every step, ITC queue on) is killed at points spread
// over the run, some of them while a checkpoint is being written (caught with an inotify watch on the
// checkpoints folder the moment a temporary folder appears), and after each kill `--resume` must finish with
// exactly (difference 0) the parameters and optimiser state of an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { logSteps, maxDiff, startTrain, synthData, trainArgs, waitFor } from '../helpers/train.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-kill-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const data = synthData(join(tmp, 'data'), 96);
const args = (out: string) => [
  ...trainArgs(data).filter((a, i, all) => a !== '--save-every' && all[i - 1] !== '--save-every'),
  '--save-every',
  '1',
  '--out',
  out,
];

/** Kill points: after a number of logged steps (plus a few ms), or during the n-th checkpoint write. */
type KillPoint = { afterStep: number; delayMs: number } | { duringWrite: number };
const POINTS: KillPoint[] = [
  { afterStep: 1, delayMs: 0 },
  { duringWrite: 2 },
  { afterStep: 4, delayMs: 7 },
  { duringWrite: 6 },
  { afterStep: 9, delayMs: 3 },
  { afterStep: 10, delayMs: 15 },
  { duringWrite: 11 },
  { afterStep: 14, delayMs: 1 },
  { duringWrite: 16 },
  { afterStep: 19, delayMs: 5 },
];

const last = (run: string) => join(run, readlinkSync(join(run, 'last')));
const temporaries = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.includes('.tmp-')) : []);

test(
  'kill -9 at 10 points (4 during checkpoint writes), then --resume: exactly the uninterrupted parameters',
  { timeout: 600_000 },
  async () => {
    const straight = join(tmp, 'straight');
    const r = runCli(['train', ...args(straight)]);
    assert.equal(r.status, 0, r.stderr);
    const steps = logSteps(straight);
    let worst = 0;
    let landedInWrite = 0;
    for (const [k, point] of POINTS.entries()) {
      const out = join(tmp, `killed-${k}`);
      const checkpoints = join(out, 'checkpoints');
      mkdirSync(checkpoints, { recursive: true });
      const run = startTrain(args(out));
      if ('afterStep' in point) {
        await waitFor(() => logSteps(out) >= point.afterStep, `step ${point.afterStep}`);
        await new Promise((res) => setTimeout(res, point.delayMs));
        run.child.kill('SIGKILL');
      } else {
        // The n-th temporary checkpoint folder to appear: kill as soon as inotify reports it.
        let seen = 0;
        await new Promise<void>((res) => {
          const w = watch(checkpoints, (_event, name) => {
            if (name && name.includes('.tmp-') && !name.includes('best-step') && ++seen === point.duringWrite * 2 - 1) {
              run.child.kill('SIGKILL');
              w.close();
              res();
            }
          });
        });
      }
      assert.equal(await run.done, null, 'killed by the signal');
      const inWrite = temporaries(checkpoints).length > 0;
      if (inWrite) landedInWrite++;
      const resumed = runCli(['train', '--resume', '--out', out, '--no-progress']);
      assert.equal(resumed.status, 0, `kill point ${k}: ${resumed.stderr}`);
      assert.equal(logSteps(out), steps, `kill point ${k}: the log holds each step once`);
      assert.deepEqual(temporaries(checkpoints), [], 'temporary folders cleaned');
      const d = Math.max(
        maxDiff(join(last(straight), 'model.safetensors'), join(last(out), 'model.safetensors')),
        maxDiff(join(last(straight), 'optimizer.safetensors'), join(last(out), 'optimizer.safetensors')),
      );
      const at = /resuming .* at step (\d+)/.exec(resumed.stderr)?.[1] ?? 'none (started over)';
      console.log(
        `kill point ${k} (${JSON.stringify(point)}): ${inWrite ? 'during a checkpoint write, ' : ''}resumed at step ${at}, max difference ${d}`,
      );
      worst = Math.max(worst, d);
      assert.equal(d, 0, `kill point ${k}: parameters differ by ${d}`);
      rmSync(out, { recursive: true, force: true });
    }
    console.log(
      `${POINTS.length} kill points (${landedInWrite} left a checkpoint half-written), max parameter difference after resume ${worst}`,
    );
    assert.ok(landedInWrite >= 1, 'no kill landed during a checkpoint write');
  },
);
