// The refusal of an output folder that already holds files, shared by the commands that fill one.
import { existsSync, statSync } from 'node:fs';
import { filesIn } from '../io/output-folder.js';
import { CliError } from './args.js';

/**
 * Refuses (usage error) a `--out` folder holding files unless --overwrite was given; `alternative` names what
 * else the user may mean (`--resume` for a run). Empty folders, and folders holding only empty folders, pass.
 */
export function refuseFilledFolder(dir: string, alternative = ''): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new CliError(`--out ${dir} is a file, not a folder`);
  const files = filesIn(dir, 4);
  if (files.length === 0) return;
  const shown = files.slice(0, 3).join(', ') + (files.length > 3 ? ', ...' : '');
  throw new CliError(
    `--out ${dir} already holds files (${shown}): pass ${[alternative, '--overwrite to delete them and start again'].filter(Boolean).join(', ')}, or choose another --out`,
  );
}
