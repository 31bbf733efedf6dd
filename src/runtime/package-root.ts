// The folder of tandem's package.json, found from a module's own location (works from src/ under tsx and
// from the compiled dist/).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('tandem: package.json not found above ' + fileURLToPath(from));
    dir = up;
  }
  return dir;
}
