// The basic layers, with PyTorch's parameter names and default initialisation.
import { empty, F, ones, zeros, type Activation, type Device, type DType, type Tensor } from '../tensor/index.js';
import { biasDefault, fanIn, kaimingUniformDefault, normal } from './init.js';
import { Module } from './module.js';

export interface LayerOptions {
  dtype?: DType;
  device?: Device;
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LayerOptions & { bias?: boolean } = {},
  ) {
    super();
    this.weight = this.param('weight', kaimingUniformDefault(empty([outFeatures, inFeatures], opts)));
    this.bias = opts.bias === false ? null : this.param('bias', biasDefault(empty([outFeatures], opts), inFeatures));
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: LayerOptions & { paddingIdx?: number } = {},
  ) {
    super();
    const w = normal(empty([numEmbeddings, embeddingDim], opts));
    if (opts.paddingIdx !== undefined) w.select(0, opts.paddingIdx).zero_();
    this.weight = this.param('weight', w);
    this.paddingIdx = opts.paddingIdx ?? null;
  }
  readonly paddingIdx: number | null;
  forward(ids: Tensor): Tensor {
    return F.embedding(this.weight, ids, this.paddingIdx);
  }
}

export class LayerNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  constructor(
    readonly normalizedShape: number | number[],
    readonly eps = 1e-5,
    opts: LayerOptions & { elementwiseAffine?: boolean; bias?: boolean } = {},
  ) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? this.param('weight', ones(shape, opts)) : null;
    this.bias = affine && opts.bias !== false ? this.param('bias', zeros(shape, opts)) : null;
  }
  forward(x: Tensor): Tensor {
    const shape = typeof this.normalizedShape === 'number' ? [this.normalizedShape] : this.normalizedShape;
    return F.layerNorm(x, shape, this.weight, this.bias, this.eps);
  }
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number | [number, number],
    readonly opts: LayerOptions & {
      stride?: number | [number, number];
      padding?: number | [number, number];
      bias?: boolean;
      groups?: number;
    } = {},
  ) {
    super();
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    const groups = opts.groups ?? 1;
    const w = kaimingUniformDefault(empty([outChannels, inChannels / groups, kh, kw], opts));
    this.weight = this.param('weight', w);
    this.bias =
      opts.bias === false ? null : this.param('bias', biasDefault(empty([outChannels], opts), fanIn(w.shape)));
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, {
      stride: this.opts.stride,
      padding: this.opts.padding,
      groups: this.opts.groups,
    });
  }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
}

/** Two linear layers with an activation between (one native call); optional dropout after. */
export class MLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(
    inFeatures: number,
    hidden: number,
    outFeatures: number,
    readonly activation: Activation = 'gelu',
    readonly dropout = 0,
    opts: LayerOptions = {},
  ) {
    super();
    this.fc1 = this.child('fc1', new Linear(inFeatures, hidden, opts));
    this.fc2 = this.child('fc2', new Linear(hidden, outFeatures, opts));
  }
  forward(x: Tensor): Tensor {
    const y = F.mlp(x, this.fc1.weight, this.fc1.bias, this.fc2.weight, this.fc2.bias, this.activation);
    if (this.dropout === 0 || !this.training) return y;
    const d = F.dropout(y, this.dropout, true);
    y.dispose();
    return d;
  }
}

/**
 * torch.nn.MultiheadAttention (batch_first): parameters in_proj_weight [3E, E], in_proj_bias [3E],
 * out_proj.{weight,bias}. keyPaddingMask: bool [B, S], true = padding (ignored), as PyTorch.
 */
export class MultiheadAttention extends Module {
  readonly inProjWeight: Tensor;
  readonly inProjBias: Tensor;
  readonly outProj: Linear;
  readonly headDim: number;
  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    readonly dropout = 0,
    opts: LayerOptions = {},
  ) {
    super();
    if (embedDim % numHeads !== 0)
      throw new RangeError(`MultiheadAttention: embedDim ${embedDim} is not divisible by numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    // PyTorch: xavier_uniform_ on in_proj_weight, zeros on the biases.
    const bound = Math.sqrt(6 / (embedDim + 3 * embedDim));
    this.inProjWeight = this.param('in_proj_weight', empty([3 * embedDim, embedDim], opts).uniform_(-bound, bound));
    this.inProjBias = this.param('in_proj_bias', zeros([3 * embedDim], opts));
    this.outProj = this.child('out_proj', new Linear(embedDim, embedDim, opts));
    this.outProj.bias?.zero_();
  }

  forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    opts: { keyPaddingMask?: Tensor; attnMask?: Tensor } = {},
  ): Tensor {
    const [B, L] = query.shape as [number, number];
    const S = key.size(1);
    const E = this.embedDim;
    const heads = (x: Tensor, len: number) => x.view(B, len, this.numHeads, this.headDim).transpose(1, 2);
    let q: Tensor, k: Tensor, v: Tensor;
    const temps: Tensor[] = [];
    if (query === key && key === value) {
      // Self-attention: one packed projection, as PyTorch does.
      const qkv = F.linear(query, this.inProjWeight, this.inProjBias);
      const parts = qkv.chunk(3, -1);
      temps.push(qkv, ...parts);
      [q, k, v] = parts.map((t) => heads(t, L)) as [Tensor, Tensor, Tensor];
    } else {
      const [wq, wk, wv] = this.inProjWeight.chunk(3, 0) as [Tensor, Tensor, Tensor];
      const [bq, bk, bv] = this.inProjBias.chunk(3, 0) as [Tensor, Tensor, Tensor];
      const pq = F.linear(query, wq, bq),
        pk = F.linear(key, wk, bk),
        pv = F.linear(value, wv, bv);
      temps.push(wq, wk, wv, bq, bk, bv, pq, pk, pv);
      [q, k, v] = [heads(pq, L), heads(pk, S), heads(pv, S)];
    }
    let mask: Tensor | null = null;
    if (opts.keyPaddingMask) mask = opts.keyPaddingMask.logicalNot().view(B, 1, 1, S);
    if (opts.attnMask)
      mask = mask
        ? mask.logicalAnd(opts.attnMask.dtype === 'bool' ? opts.attnMask.logicalNot() : opts.attnMask.eq(0))
        : opts.attnMask.dtype === 'bool'
          ? opts.attnMask.logicalNot()
          : opts.attnMask;
    const o = F.attention(q, k, v, { mask, dropout: this.dropout, training: this.training });
    const merged = o.transpose(1, 2).reshape(B, L, E);
    const out = this.outProj.forward(merged);
    for (const t of [...temps, q, k, v, o, merged]) t.dispose();
    mask?.dispose();
    return out;
  }
}
