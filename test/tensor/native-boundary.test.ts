// The native boundary: the declaration in src/tensor/addon.ts against the built addon. The same set of
// function names on both sides, and each argument the addon checks has the kind (tensor, number, string,
// list) and the required-ness that the declaration gives it, found by calling every function with missing
// arguments and reading the addon's own argument errors (N-API functions report no arity of their own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ADDON_FUNCTIONS } from '../../src/tensor/addon.js';
import { N } from '../../src/tensor/native.js';
import { getNumThreads, setNumThreads, zeros } from '../../src/tensor/index.js';
import { packageRoot } from '../../src/runtime/package-root.js';

// The addon without its declaration, to make the calls the declaration forbids.
const raw = N as unknown as Record<string, (...args: unknown[]) => unknown>;

interface Param {
  name: string;
  type: string;
  optional: boolean;
}

/** Each declared function's parameters, read from the declaration's source (aliases such as Unary resolved). */
function declaredSignatures(): Map<string, Param[]> {
  const path = join(packageRoot(import.meta.url), 'src', 'tensor', 'addon.ts');
  const src = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const params = (ps: ts.NodeArray<ts.ParameterDeclaration>): Param[] =>
    ps.map((p) => {
      const type = p.type ? p.type.getText(src) : 'unknown';
      // `x?: T` or `x: T | null`: the addon takes undefined or null there (`absent()` in native/common.h).
      const nullable =
        !!p.type &&
        ts.isUnionTypeNode(p.type) &&
        p.type.types.some((t) => ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword);
      return { name: p.name.getText(src), type, optional: !!p.questionToken || nullable };
    });
  const aliases = new Map<string, Param[]>();
  const out = new Map<string, Param[]>();
  let addon: ts.InterfaceDeclaration | undefined;
  src.forEachChild((n) => {
    if (ts.isTypeAliasDeclaration(n) && ts.isFunctionTypeNode(n.type))
      aliases.set(n.name.text, params(n.type.parameters));
    if (ts.isInterfaceDeclaration(n) && n.name.text === 'Addon') addon = n;
  });
  assert.ok(addon, `${path}: no interface Addon`);
  for (const m of addon.members) {
    const name = m.name!.getText(src);
    if (ts.isMethodSignature(m)) out.set(name, params(m.parameters));
    else if (ts.isPropertySignature(m) && m.type && ts.isTypeReferenceNode(m.type)) {
      const alias = aliases.get(m.type.typeName.getText(src));
      assert.ok(alias, `${path}: ${name} is typed as ${m.type.getText(src)}, not a function type of this file`);
      out.set(name, alias);
    } else assert.fail(`${path}: cannot read the signature of ${name}`);
  }
  return out;
}

test('the addon exports exactly the functions declared in src/tensor/addon.ts', () => {
  const exported = Object.keys(N).sort();
  const declared: string[] = [...ADDON_FUNCTIONS].sort();
  assert.equal(new Set(declared).size, declared.length, 'a name is listed twice in ADDON_FUNCTIONS');
  const onlyNative = exported.filter((n) => !declared.includes(n));
  const onlyDeclared = declared.filter((n) => !exported.includes(n));
  assert.deepEqual(
    { onlyNative, onlyDeclared },
    { onlyNative: [], onlyDeclared: [] },
    'native/*.cc and src/tensor/addon.ts disagree',
  );
  for (const n of exported) assert.equal(typeof raw[n], 'function', n);
  console.log(`# ${exported.length} addon functions, all declared`);
});

test('the interface Addon and the runtime list ADDON_FUNCTIONS name the same functions', () => {
  const sigs = declaredSignatures();
  assert.deepEqual([...sigs.keys()].sort(), [...ADDON_FUNCTIONS].sort());
});

// What the addon's argument errors say (native/common.h) and the declared types that agree with each.
const KINDS: [RegExp, (type: string) => boolean][] = [
  [/^a tensor$/, (t) => t === 'Handle'],
  [/^a number$/, (t) => t === 'number'],
  [/^an integer$/, (t) => t === 'number' || t === 'DTypeCode' || t === 'number | number[]'],
  [/^a string$/, (t) => ['string', 'Device', 'Activation', 'InterpolateMode', 'Reduction'].includes(t)],
  [/^an array of integers$/, (t) => t === 'number[]'],
  [/^an array of tensors$/, (t) => t === 'Handle[]'],
  [/^an array of tensors or nulls$/, (t) => t === '(Handle | null)[]'],
  [/^a TypedArray, Buffer or ArrayBuffer$/, (t) => t === 'ArrayBufferView | ArrayBuffer'],
];

/** A value of the declared type for filling in a parameter the addon asked for. */
function sample(type: string): unknown {
  if (type === 'Handle') return zeros([2, 2]).handle;
  if (type === 'Handle[]' || type === '(Handle | null)[]') return [zeros([2, 2]).handle];
  if (type === 'number[]') return [2, 2];
  if (type === 'ArrayBufferView | ArrayBuffer') return new Float32Array(4);
  if (type === 'Device') return 'cpu';
  if (type === 'Activation') return 'relu';
  if (type === 'InterpolateMode') return 'nearest';
  if (type === 'Reduction') return 'mean';
  if (type === 'string') return 'ij->ji';
  if (type === 'DTypeCode') return 0;
  if (type === 'number' || type === 'number | number[]') return 1;
  throw new Error(`no sample value for the declared type ${type}`);
}

test('every argument the addon checks has the kind and required-ness the declaration gives it', () => {
  const sigs = declaredSignatures();
  const threads = getNumThreads();
  const problems: string[] = [];
  let probed = 0;
  let checkedArgs = 0;
  for (const [name, params] of sigs) {
    // Functions whose arguments are all optional or flags would only run (and change global state).
    if (!params.some((p) => !p.optional && p.type !== 'boolean')) continue;
    probed++;
    const args: unknown[] = [];
    // Fill in, one at a time, each argument the addon says is missing, until it asks for no more.
    for (let round = 0; round <= params.length; round++) {
      let message: string;
      try {
        raw[name]!(...args);
        break;
      } catch (e) {
        message = (e as Error).message;
      }
      const prefix = `tandem.${name}(`;
      if (!message.startsWith(prefix)) {
        problems.push(`${name}: an error that does not name the op: ${message}`);
        break;
      }
      const m = /\): argument (\d+)(?: element \d+)? must be (.+)$/.exec(message);
      if (!m) break; // libtorch's own error about the values: every argument it asked for was accepted
      const k = Number(m[1]);
      const p = params[k];
      checkedArgs++;
      if (!p) {
        problems.push(`${name}: the addon wants argument ${k} (${m[2]}) but ${params.length} are declared`);
        break;
      }
      if (args[k] !== undefined) {
        problems.push(`${name}: argument ${k} (${p.name}) was given as ${p.type} and refused: ${message}`);
        break;
      }
      const kind = KINDS.find(([re]) => re.test(m[2]!));
      if (!kind) problems.push(`${name}: unknown argument error '${m[2]}'`);
      else if (!kind[1](p.type))
        problems.push(`${name}: argument ${k} (${p.name}) must be ${m[2]}, declared ${p.type}`);
      if (p.optional) problems.push(`${name}: argument ${k} (${p.name}) is declared optional, the addon requires it`);
      while (args.length < k) args.push(undefined);
      args[k] = sample(p.type);
    }
  }
  setNumThreads(threads);
  console.log(`# probed ${probed} functions, ${checkedArgs} argument checks`);
  assert.deepEqual(problems, []);
});

test('wrong argument types give a TypeError naming the op, its arguments and the position', () => {
  const x = zeros([2, 3]);
  const cases: [() => unknown, RegExp][] = [
    [() => raw.add(x.handle, 1), /^tandem\.add\(float32\[2,3\], 1\): argument 1 must be a tensor$/],
    [
      () => raw.reshape(x.handle, ['a']),
      /^tandem\.reshape\(float32\[2,3\], \[\?\]\): argument 1 element 0 must be an integer$/,
    ],
    [
      () => raw.index(x.handle, 5),
      /^tandem\.index\(float32\[2,3\], 5\): argument 1 must be an array of tensors or nulls$/,
    ],
    [
      () => raw.index(x.handle, [7]),
      /^tandem\.index\(float32\[2,3\], \[7\]\): argument 1 element 0 must be a tensor or null$/,
    ],
    [() => raw.cat([x.handle, 3], 0), /^tandem\.cat\(\[\[2,3\],3\], 0\): argument 0 element 1 must be a tensor$/],
    [
      () => raw.adamw_step([], [], [], 1, 'lr', 0.9, 0.999, 1e-8, 0),
      /^tandem\.adamw_step\(.*\): argument 4 must be a number$/,
    ],
  ];
  for (const [call, re] of cases)
    assert.throws(call, (e: Error) => e instanceof TypeError && re.test(e.message), String(re));
  x.dispose();
});
