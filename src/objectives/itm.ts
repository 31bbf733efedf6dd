// Image-text matching (ITM): a binary task on the fused pair, matched (1) vs mismatched (0).
// The paper's sampling: for each post, with probability 0.5 its text is swapped for another post's text
// from the batch (label 0), else kept (label 1). Hard negatives (ALBEF): the other text is drawn in
// proportion to its ITC similarity with the image, so that confusable pairs are seen more often.
// In both modes a negative never uses the post's own text nor a text identical to it (a false negative).
import { F, multinomial, rand, tensor, noGrad, type Tensor } from '../tensor/index.js';

export interface ItmSample {
  /** For each post i, the index of the text it is paired with (i itself when matched). */
  textIndex: number[];
  /** 1 matched, 0 mismatched. */
  labels: number[];
}

export interface ItmSamplingOptions {
  mode?: 'random' | 'hard';
  /** Probability that a post becomes a negative (paper: 0.5). */
  negativeRate?: number;
  /** Keys of the texts: candidates with the same key as the post's own text are excluded. */
  textKeys?: readonly string[];
  /** Hard mode: image-to-text similarities [B, B] (for example ITC logits per image). */
  similarity?: Tensor;
}

/**
 * Draws the ITM pairing for a batch with the engine's seeded generator (so a resumed run repeats it).
 * A post with no valid other text (a batch of one, or all texts identical) stays matched.
 */
export function sampleItmPairs(batchSize: number, opts: ItmSamplingOptions = {}): ItmSample {
  const rate = opts.negativeRate ?? 0.5;
  const keys = opts.textKeys;
  const coin = noGrad(() => rand([batchSize]).toArray());
  const textIndex: number[] = [];
  const labels: number[] = [];
  let weights: number[] | null = null;
  if (opts.mode === 'hard') {
    if (!opts.similarity) throw new Error("sampleItmPairs: mode 'hard' needs the ITC similarity matrix");
    weights = noGrad(() => opts.similarity!.detach().float().softmax(1).toArray());
  }
  for (let i = 0; i < batchSize; i++) {
    const candidates: number[] = [];
    for (let j = 0; j < batchSize; j++) if (j !== i && !(keys && keys[j] === keys[i])) candidates.push(j);
    if (coin[i]! >= rate || candidates.length === 0) {
      textIndex.push(i);
      labels.push(1);
      continue;
    }
    const w = candidates.map((j) => (weights ? Math.max(weights[i * batchSize + j]!, 0) : 1));
    const total = w.reduce((a, b) => a + b, 0);
    const probs = total > 0 ? w : w.map(() => 1);
    const pick = noGrad(() => multinomial(tensor(probs, { dtype: 'float64' }), 1).toArray()[0]!);
    textIndex.push(candidates[pick]!);
    labels.push(0);
  }
  return { textIndex, labels };
}

/** Mean cross-entropy of ITM logits [N, 2] against labels (1 = matched). */
export function itmLoss(logits: Tensor, labels: Tensor): Tensor {
  return F.crossEntropy(logits, labels);
}
