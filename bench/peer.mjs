// What the runners that alternate tandem and PyTorch share: a child process driven one command line at a time
// (answering one JSON line each), and the median with its spread.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { root, env } from './env.mjs';

/** A child that answers one JSON line per command line (a step.ts or a Python peer run with --serve). */
export function serveChild(cmd, args) {
  const child = spawn(cmd, args, { env, cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const queue = [];
  const waiting = [];
  const fail = (why) => {
    console.error(`${cmd} ${args.join(' ')} ${why}:\n${stderr}`);
    process.exit(1);
  };
  lines.on('line', (l) => (waiting.length ? waiting.shift()(l) : queue.push(l)));
  child.on('exit', (code) => code !== 0 && fail(`exited with ${code}`));
  const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r)));
  return {
    /** Sends a command (null: none, to read the greeting) and resolves with the parsed answer. */
    async ask(command) {
      if (command !== null) child.stdin.write(`${command}\n`);
      const line = await next();
      try {
        return JSON.parse(line);
      } catch {
        return fail(`answered ${JSON.stringify(line)}`);
      }
    },
  };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** "median (min-max)". */
export const spread = (xs, digits = 1) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
