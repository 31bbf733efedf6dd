// Loads the compiled addon (build/Release/tandem.node). Kept apart so that a missing or stale build gives one
// clear message instead of a stack from deep inside a model. Its functions are declared in addon.ts.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';
import { ADDON_FUNCTIONS, type Addon } from './addon.js';

export type { Addon, Handle } from './addon.js';

function load(): Addon {
  const root = packageRoot();
  const override = process.env.TANDEM_ADDON;
  const candidates = override
    ? [override]
    : [join(root, 'build', 'Release', 'tandem.node'), join(root, 'build', 'Debug', 'tandem.node')];
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      `tandem: the native addon is not built (looked for ${candidates.join(', ')}). ` +
        'Run `npm ci` (or `npm run install`) after installing libtorch: see README "Set-up".',
    );
  }
  const exports = createRequire(import.meta.url)(path) as Record<string, unknown>;
  // An addon built from older sources lacks functions the TypeScript side calls: say so now, not at the
  // first call of one of them.
  const missing = ADDON_FUNCTIONS.filter((name) => typeof exports[name] !== 'function');
  if (missing.length > 0)
    throw new Error(
      `tandem: the native addon ${path} lacks ${missing.join(', ')} (declared in src/tensor/addon.ts): ` +
        'it was built from older sources; rebuild it with `npx node-gyp rebuild`.',
    );
  return exports as unknown as Addon;
}

export const N: Addon = load();
