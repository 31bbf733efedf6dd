// Loads the compiled addon (build/Release/tandem.node). Kept apart so that a missing build gives one clear
// message instead of a stack from deep inside a model.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';

/** An opaque tensor handle owned by the addon. */
export type Handle = object & { readonly __brand?: 'TensorHandle' };

// The addon's functions are registered dynamically from C++ (native/*.cc, OP(name)); each takes handles,
// numbers, strings and arrays as documented beside its definition.
export type Addon = Record<string, (...args: any[]) => any>;

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
  return createRequire(import.meta.url)(path) as Addon;
}

export const N: Addon = load();
