// --resume restores every item of the trainer's state: kill -9 a run mid-epoch (ITC queue on, ITM sampling the
// RNG, a linear schedule, AdamW moments), resume it, and it ends with exactly the parameters and the ITC queue of
// an uninterrupted run. Each item left out of the restore (optimiser, schedule, RNG, data position, queue)
// changes the final parameters; scripts/mutations.mjs checks that this test catches each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import { logSteps, maxDiff, startTrain, synthData, trainArgs, waitFor } from '../helpers/train.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-resume-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const data = synthData(join(tmp, 'data'), 96);
const straight = join(tmp, 'straight');

test('kill -9 mid-epoch with --itc-queue, then --resume: parameters, AdamW state and ITC queue as uninterrupted', async () => {
  const r = runCli(['train', ...trainArgs(data), '--out', straight]);
  assert.equal(r.status, 0, r.stderr);
  const stepsPerRun = logSteps(straight);
  const killed = join(tmp, 'killed');
  const run = startTrain([...trainArgs(data), '--out', killed]);
  // Past the checkpoint at step 4 and before the end of the first epoch: the resume is mid-epoch.
  await waitFor(() => logSteps(killed) >= 5, 'step 5');
  run.child.kill('SIGKILL');
  assert.equal(await run.done, null, 'killed by the signal');
  const at = JSON.parse(readFileSync(join(killed, 'last', 'trainer_state.json'), 'utf8'));
  assert.ok(at.position > 0 && at.epoch === 0, `checkpoint mid-epoch (epoch ${at.epoch}, batch ${at.position})`);
  const queue = loadSafetensorsFile(join(killed, 'last', 'optimizer.safetensors')).tensors;
  assert.deepEqual(queue.get('itc_queue.text')?.shape, [12, queue.get('itc_queue.text')!.shape[1]!], 'queue full');
  const resumed = runCli(['train', '--resume', '--out', killed, '--no-progress']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming .* at step ${at.step} \\(epoch 0, batch ${at.position}\\)`));
  assert.equal(logSteps(killed), stepsPerRun, 'the log holds each step once');
  const last = (run: string) => join(run, readlinkSync(join(run, 'last')));
  const params = maxDiff(join(last(straight), 'model.safetensors'), join(last(killed), 'model.safetensors'));
  // optimizer.safetensors: AdamW moments, step counts, the RNG state and the ITC queue.
  const state = maxDiff(join(last(straight), 'optimizer.safetensors'), join(last(killed), 'optimizer.safetensors'));
  console.log(
    `resumed at step ${at.step} (batch ${at.position}) of ${stepsPerRun}: max parameter difference ${params}, optimiser/RNG/queue ${state}`,
  );
  assert.equal(params, 0, 'parameters differ from the uninterrupted run');
  assert.equal(state, 0, 'optimiser state, RNG or ITC queue differ from the uninterrupted run');
});

// What a scheduler sends before preemption (SLURM, Kubernetes): SIGTERM stops after the current step with a
// resumable checkpoint, exits 143 after printing the command that continues, and the continued run ends exactly
// as the uninterrupted one. The signal is sent at a step count read from log.jsonl, not after some time.
test('SIGTERM mid-epoch: checkpoint, exit 143 with the resume command, --resume ends with the same parameters', async () => {
  const stepsPerRun = logSteps(straight);
  const out = join(tmp, 'terminated');
  const run = startTrain([...trainArgs(data), '--out', out]);
  await waitFor(() => logSteps(out) >= 3, 'step 3');
  run.child.kill('SIGTERM');
  const signalled = logSteps(out);
  assert.equal(await run.done, 143, run.stderr());
  const command = `tandem train --resume --out ${out}`;
  assert.ok(run.stderr().includes(`SIGTERM: stopped at step`) && run.stderr().includes(command), run.stderr());
  const at = JSON.parse(readFileSync(join(out, 'last', 'trainer_state.json'), 'utf8'));
  // the checkpoint is at the last logged step, not at an earlier --save-every one (every 2 steps here)
  assert.equal(at.step, logSteps(out), 'checkpoint at the step where it stopped');
  // the step under way when the signal came, and at most one more: the handler runs between steps
  assert.ok(at.step <= signalled + 2, `signalled after step ${signalled}, stopped at step ${at.step}`);
  assert.ok(at.step < stepsPerRun && at.finished === false, `stopped mid-run (step ${at.step} of ${stepsPerRun})`);
  const resumed = runCli(command.split(' ').slice(1).concat('--no-progress'));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming .* at step ${at.step} `));
  assert.equal(logSteps(out), stepsPerRun, 'the log holds each step once');
  const last = (run: string) => join(run, readlinkSync(join(run, 'last')));
  const params = maxDiff(join(last(straight), 'model.safetensors'), join(last(out), 'model.safetensors'));
  const state = maxDiff(join(last(straight), 'optimizer.safetensors'), join(last(out), 'optimizer.safetensors'));
  console.log(
    `SIGTERM after step ${signalled}, stopped at step ${at.step} of ${stepsPerRun}, resumed: max parameter difference ${params}, state ${state}`,
  );
  assert.equal(params, 0);
  assert.equal(state, 0);
});
