// The global batch of the gathered-ITC test, the same in the test process and in each rank (seeded).
import { manualSeed, randn, tensor, type Tensor } from '../../src/tensor/index.js';

export const ITC_BATCH = 6;

export function itcInputs(): { text: Tensor; image: Tensor; scale: Tensor; textKeys: string[]; imageKeys: string[] } {
  manualSeed(11);
  return {
    text: randn([ITC_BATCH, 5], { dtype: 'float64' }),
    image: randn([ITC_BATCH, 5], { dtype: 'float64' }),
    scale: tensor(Math.log(1 / 0.07), { dtype: 'float64' }),
    // a duplicate text across the ranks (rows 1 and 4) and a duplicate image within rank 0 (rows 0 and 2)
    textKeys: ['a1', 'b2', 'c3', 'd4', 'b2', 'e5'].map((k) => k.padEnd(12, '0')),
    imageKeys: ['f1', 'f2', 'f1', 'f4', 'f5', 'f6'].map((k) => k.padEnd(12, '0')),
  };
}
