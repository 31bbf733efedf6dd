// The import rule over the real src/ tree, and proof that it catches each way of breaking it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT } from '../helpers/cli.js';
import { formatViolation, LAYERS, layerViolations, readSources } from './import-layers.js';

test('src/: no file imports from a higher layer', () => {
  const files = readSources(REPO_ROOT);
  assert.ok(files.length > 100, `read ${files.length} files`);
  const folders = new Set(files.map((f) => f.path.split('/')[1]).filter((f) => !f!.endsWith('.ts')));
  for (const layer of LAYERS)
    for (const f of layer) if (f !== 'inference') assert.ok(folders.has(f), `src/${f}/ exists`);
  const bad = layerViolations(files).map(formatViolation);
  assert.deepEqual(bad, [], bad.join('\n'));
});

test('an upward import fails, naming the file, the line and the forbidden target', () => {
  const files = [
    {
      path: 'src/tensor/ops.ts',
      text: [
        "import { x } from '../runtime/random.js';",
        '// a comment mentioning ../models/bert.js is no import',
        "import type { BertConfig } from '../models/bert.js';",
        "export { y } from './local.js';",
        "const lazy = await import('../serve/server.js');",
      ].join('\n'),
    },
    { path: 'src/models/vit.ts', text: "import { Tensor } from '../tensor/index.js';\nimport { a } from './bert.js';" },
  ];
  assert.deepEqual(layerViolations(files).map(formatViolation), [
    "src/tensor/ops.ts:3: imports '../models/bert.js': tensor (layer 2) may not import the higher models (layer 5)",
    "src/tensor/ops.ts:5: imports '../serve/server.js': tensor (layer 2) may not import the higher serve (layer 11)",
  ]);
});

test('inside a layer only the listed direction; unknown folders, the entry and paths outside src/ are caught', () => {
  const v = layerViolations([
    { path: 'src/train/a.ts', text: "import { b } from '../data/build.js';" }, // allowed: train->data
    { path: 'src/data/b.ts', text: "import { t } from '../train/trainer.js';" },
    { path: 'src/nn/c.ts', text: "import { o } from '../optim/index.js';" },
    { path: 'src/widgets/d.ts', text: "import { t } from '../tensor/index.js';" },
    { path: 'src/cli/e.ts', text: "import * as all from '../index.js';\nimport g from '../../test/helpers/cli.js';" },
    { path: 'src/index.ts', text: "export * from './serve/server.js';" }, // the entry may import anything
  ]).map(formatViolation);
  assert.deepEqual(v, [
    "src/data/b.ts:1: imports '../train/trainer.js': data (layer 8) may not import the higher train (layer 10)",
    "src/nn/c.ts:1: imports '../optim/index.js': nn -> optim is not an allowed import inside layer 3 (SAME_LAYER)",
    'src/widgets/d.ts:1: src/widgets/ is in no layer: add it to LAYERS in test/repo/import-layers.ts and to docs/design.md',
    "src/cli/e.ts:1: imports '../index.js' (the public entry src/index.js): import the module itself",
    "src/cli/e.ts:2: imports '../../test/helpers/cli.js', outside src/",
  ]);
});
