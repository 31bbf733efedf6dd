// The processes tandem starts (the jemalloc re-execution of bin/tandem.js, the ranks of --nproc-per-node, the
// runs of a study) must not outlive their parent, whatever ends it. SIGKILL cannot be caught, so no forwarding
// helps there: instead the parent opens an IPC channel to the child, which the kernel closes when the parent
// dies in any way, and the child treats the channel's disconnect as a hangup. It sends itself SIGHUP: `tandem
// train` then saves a resumable checkpoint after the current step and exits; any other command, which leaves
// SIGHUP to its default action, ends at once.
import type { StdioOptions } from 'node:child_process';

/**
 * Set by the parent to its pid: the IPC channel is a lifeline to watch (not one a library user opened with
 * fork()), and a child whose parent died before it could watch the channel sees another parent pid.
 */
const MARKER = 'TANDEM_PARENT_WATCH';
/** After the parent is gone, what is still running this long later exits anyway (a checkpoint is atomic). */
export const PARENT_GONE_GRACE_MS = 30_000;

type Stdio = Exclude<StdioOptions, string>[number];

/**
 * Spawn options that tie a child to this process: the given stdio plus an IPC channel, and the marker that
 * makes the child's `watchParent` watch it.
 */
export function tiedSpawn(
  stdio: 'inherit' | 'ignore' | 'pipe' | readonly [Stdio, Stdio, Stdio],
  env: NodeJS.ProcessEnv,
): { stdio: Stdio[]; env: NodeJS.ProcessEnv } {
  const three: Stdio[] = typeof stdio === 'string' ? [stdio, stdio, stdio] : [...stdio];
  return { stdio: [...three, 'ipc'], env: { ...env, [MARKER]: String(process.pid) } };
}

/**
 * In a child started with `tiedSpawn`: when the parent goes away, raise SIGHUP in this process (and exit after
 * PARENT_GONE_GRACE_MS if that did not end it). The channel does not keep the process alive. Returns whether
 * there was a parent to watch.
 */
export function watchParent(): boolean {
  const parent = Number(process.env[MARKER]);
  if (!parent) return false;
  // the processes this one starts are not tied through our channel
  delete process.env[MARKER];
  const channel = process.channel;
  // no channel with our parent still there: the marker leaked into a process started without one
  if (!channel && process.ppid === parent) return false;
  let handled = false;
  const gone = () => {
    if (handled) return;
    handled = true;
    // the terminal or pipe the parent shared may be gone: writing to it must not end the checkpoint early
    for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);
    setTimeout(() => process.exit(129), PARENT_GONE_GRACE_MS).unref();
    process.kill(process.pid, 'SIGHUP');
  };
  channel?.unref();
  // the parent may have died while this process was starting (the channel then closed already)
  if (!channel || !process.connected || process.ppid !== parent) gone();
  else process.once('disconnect', gone);
  return true;
}
