// One vocabulary for posts that cannot be used, the same in every command that reads posts (the README's
// table "Bad rows and missing images" lists which command takes which):
//   --on-bad-row error|skip          a bad post stops the command naming it, or is left out and counted
//   --missing-image bad-row|blank|keep   a post whose image is missing: a bad row (so --on-bad-row decides),
//                                    one blank image (commands with a model), or kept text-only (data commands)
import { BAD_ROW_POLICIES } from '../data/pipeline/bad-rows.js';
import { formatLeftOut, groupsOf, type LeftOutGroup } from '../data/left-out.js';
import type { LoadResult } from '../data/rows.js';

/** --on-bad-row with the command's default and what counts as a bad row there. */
export function onBadRowOption<const D extends 'error' | 'skip'>(def: D, what: string, group?: string) {
  return {
    type: 'enum' as const,
    choices: BAD_ROW_POLICIES,
    default: def,
    help: `${what}: stop naming the post, file and line (error), or leave it out, counted by reason and summarised on stderr (skip)`,
    ...(group ? { group } : {}),
  };
}

/** --missing-image for commands with a model: a bad row, or the blank image. */
export function missingImageModelOption(help: string, extra: { defaultText?: string; group?: string }) {
  return { type: 'enum' as const, choices: ['bad-row', 'blank'] as const, help, ...extra };
}

/** Writes the summary of posts left out to stderr (nothing when none were). */
export function printLeftOut(command: string, heading: string, groups: readonly LeftOutGroup[]): void {
  for (const line of formatLeftOut(`tandem ${command}: ${heading}`, groups)) process.stderr.write(line + '\n');
}

/** Writes the summary of the posts a dataset format's own rules left out while reading (nothing when none were). */
export function printDropped(command: string, result: Pick<LoadResult, 'format' | 'dropped' | 'leftOut'>): void {
  printLeftOut(
    command,
    `posts dropped by the ${result.format} format's rules`,
    groupsOf(result.dropped, result.leftOut),
  );
}
