// The child side of an alternating benchmark (bench/peer.mjs drives it): greets with {"ready": true}, then
// reads stdin line by line, synchronously (the step being timed must not share the event loop with a reader),
// answering each "name [argument]" with one JSON line from its handler; "done" answers the summary and ends.
import { readSync } from 'node:fs';

export function answerCommands(
  who: string,
  handlers: Record<string, (argument: string | undefined) => unknown>,
  summary: () => unknown,
): void {
  console.log(JSON.stringify({ ready: true }));
  const buf = Buffer.alloc(64);
  let pending = '';
  for (;;) {
    const nl = pending.indexOf('\n');
    if (nl < 0) {
      const n = readSync(0, buf, 0, buf.length, null);
      if (n === 0) return;
      pending += buf.toString('utf8', 0, n);
      continue;
    }
    const [name, argument] = pending.slice(0, nl).trim().split(/\s+/);
    pending = pending.slice(nl + 1);
    if (name === 'done') {
      console.log(JSON.stringify(summary()));
      return;
    }
    const handler = handlers[name!];
    if (!handler)
      throw new Error(
        `${who}: unknown command ${JSON.stringify(name)} (expected ${[...Object.keys(handlers), 'done'].join(', ')})`,
      );
    console.log(JSON.stringify(handler(argument)));
  }
}
