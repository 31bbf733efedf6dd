// Initialisation as PyTorch's defaults (kaiming_uniform with a = sqrt(5) for Linear and Conv2d weights,
// which reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the same bound for biases) and the normal /
// truncated-normal initialisers that Hugging Face models use.
import { noGrad, tidy, type Tensor } from '../tensor/index.js';

/** fan_in of a weight [out, in, ...kernel]. */
export function fanIn(shape: number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

export function uniform(t: Tensor, low: number, high: number): Tensor {
  return noGrad(() => t.uniform_(low, high));
}
export function normal(t: Tensor, mean = 0, std = 1): Tensor {
  return noGrad(() => t.normal_(mean, std));
}
/** PyTorch's default for nn.Linear / nn.Conv2d weights: kaiming_uniform_(a=sqrt(5)). */
export function kaimingUniformDefault(t: Tensor): Tensor {
  const bound = 1 / Math.sqrt(fanIn(t.shape));
  return uniform(t, -bound, bound);
}
/** PyTorch's default bias init for a layer whose weight has the given fan_in. */
export function biasDefault(t: Tensor, fanInOfWeight: number): Tensor {
  const bound = fanInOfWeight > 0 ? 1 / Math.sqrt(fanInOfWeight) : 0;
  return uniform(t, -bound, bound);
}
/** Normal(mean, std) truncated to [a, b] (in absolute units), as torch.nn.init.trunc_normal_. */
export function truncNormal(t: Tensor, mean = 0, std = 1, a = -2, b = 2): Tensor {
  // Inverse-CDF method, as PyTorch: uniform in [cdf(a), cdf(b)], then erfinv. erfinv is not in the
  // engine, so out-of-range draws are drawn again instead (the same distribution).
  noGrad(() => t.normal_(mean, std));
  for (let i = 0; i < 100; i++) {
    const done = tidy(() =>
      noGrad(() => {
        const bad = t.lt(a).logicalOr(t.gt(b));
        if (bad.sum().item() === 0) return true;
        t.copy_(t.clone().normal_(mean, std).where(bad, t));
        return false;
      }),
    );
    if (done) break;
  }
  return t;
}
export function zeros_(t: Tensor): Tensor {
  return noGrad(() => t.zero_());
}
export function ones_(t: Tensor): Tensor {
  return noGrad(() => t.fill_(1));
}
