// The refusal of an output folder that already holds files, shared by the commands that fill one.
import { filesIn } from '../io/output-folder.js';
import { CliError } from './args.js';

/**
 * Refuses (usage error) a `--out` folder holding files unless --overwrite was given; `alternative` names what
 * else the user may mean (`--resume` for a run). Empty folders, and folders holding only empty folders, pass.
 */
export function refuseFilledFolder(dir: string, alternative = ''): void {
  const files = filesIn(dir, 4);
  if (files.length === 0) return;
  const shown = files.slice(0, 3).join(', ') + (files.length > 3 ? ', ...' : '');
  throw new CliError(
    `--out ${dir} already holds files (${shown}): ${alternative ? `${alternative}, ` : ''}pass --overwrite to delete them and start again, or choose another --out`,
  );
}
