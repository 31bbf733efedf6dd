// Deterministic release of native memory. V8's collector does not see libtorch's allocations, so a training
// loop that waits for GC grows to gigabytes (docs/design.md, "Memory and threads"). Every tensor created
// while a scope is open is tracked by it; closing the scope disposes all of them except those the scope's
// function returned or kept.

export interface Releasable {
  dispose(): void;
  readonly disposed: boolean;
}

class Scope {
  readonly items = new Set<Releasable>();
}

const stack: Scope[] = [];

/** Called by every new tensor. */
export function track(t: Releasable): void {
  const s = stack[stack.length - 1];
  if (s) s.items.add(t);
}

/** Removes tensors from the innermost open scope (and its parents) so that closing it does not free them. */
export function keep<T>(value: T): T {
  forEachReleasable(value, (t) => {
    for (const s of stack) s.items.delete(t);
  });
  return value;
}

function forEachReleasable(value: unknown, fn: (t: Releasable) => void, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isReleasable(value)) {
    fn(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) forEachReleasable(v, fn, seen);
  else if (value instanceof Map) for (const v of value.values()) forEachReleasable(v, fn, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) forEachReleasable(v, fn, seen);
}

function isReleasable(v: object): v is Releasable {
  return typeof (v as Releasable).dispose === 'function' && 'disposed' in v;
}

/**
 * Runs fn in a new scope: tensors created inside are disposed when it returns, except the tensors found in
 * its result (a tensor, or arrays / plain objects / Maps holding tensors), which move to the enclosing scope.
 * fn must be synchronous: an async function would let other work's tensors into this scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Scope();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('tidy(fn): fn must be synchronous (it returned a Promise)');
  } finally {
    stack.pop();
    const survivors = new Set<Releasable>();
    // On success the result survives; on an exception everything made inside is released.
    if (typeof result! !== 'undefined') forEachReleasable(result!, (t) => survivors.add(t));
    const parent = stack[stack.length - 1];
    for (const t of scope.items) {
      if (survivors.has(t)) parent?.items.add(t);
      else if (!t.disposed) t.dispose();
    }
  }
  return result;
}

/** Number of open scopes (for tests and diagnostics). */
export function scopeDepth(): number {
  return stack.length;
}

/** Disposes every tensor found in value (arrays, plain objects, Maps). */
export function dispose(value: unknown): void {
  forEachReleasable(value, (t) => {
    if (!t.disposed) t.dispose();
  });
}
