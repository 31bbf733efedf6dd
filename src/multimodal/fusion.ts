/**
 * Fusion of a text and an image into one pair vector f (it feeds the classifier head and the ITM head).
 *
 * Each side comes as ModalityStates: the first-token state of the encoder's last layer, its pooled output,
 * and (image side, for `attention`) every token state of the last layer. Which of the first two a fusion
 * reads is its `representation` ('first-token': the paper's; 'pooled': tandem's earlier choice).
 *
 * The paper's fusions (its released code; d = `fusionDim`, default the text width, 768 in the paper):
 * - `concat`: f = ReLU(W [t; v]), W = `fusion_layer` Linear(Dt + Dv → d);
 * - `attention`: cross-attention of the text over the image tokens: Q = `query`(text token states),
 *   K = `key`, V = `value`(image token states), each a Linear(→ d) with bias, softmax(Q Kᵀ / √d) V, no mask.
 *   Only the attended vector a of the text's first token is used (f = ReLU(W [t; a])), and with no mask every
 *   query row is independent, so only the first token's query is computed: f and its gradients are those of
 *   the paper's full computation;
 * - `aspect-att`: the two vectors (the pooled outputs by default, as the paper) are scored by
 *   tanh(`score`(x)) (Linear(D → 1) with bias), softmax over the two, weighted sum, ReLU; no fusion layer,
 *   f has the width of the vectors (they must be equally wide). Per post: the paper's code stacks the pair
 *   on a new first axis and reshapes to [batch, 2, D], which for batches larger than one pairs rows of
 *   different posts; the per-post weighting is what it intends;
 * - `gmu`: z = σ([t; v]) element-wise (no learned gate), t' = `text_proj`(t), v' = `image_proj`(v) (each
 *   Linear(→ Dt + Dv) with bias), f = ReLU(W (z·t' + (1 − z)·v')), W = Linear(Dt + Dv → d).
 *
 * tandem's earlier fusions, kept under their own names:
 * - `concat-plain`: [t; v] without fusion layer (width Dt + Dv): with a linear ITM head it scores a pair as
 *   a·t + b·v + c, additively, so ITM cannot tell a swapped pair from a matched one (see docs/recipes.md);
 * - `modality-attention`: a weighting of the two modalities: h_m = W_m m + b_m (width d), s_m = wᵀ tanh(h_m),
 *   f = softmax(s)·h, no ReLU (close to the paper's aspect-att, with projections);
 * - `gmu-arevalo`: the gated multimodal unit of Arevalo et al. (2017): h_t = tanh(W_t t), h_v = tanh(W_v v),
 *   z = σ(W_z [t; v]) (a learned gate), f = z·h_t + (1 − z)·h_v (width d, no biases).
 */
import { cat, F, type Tensor } from '../tensor/index.js';
import { Linear, Module } from '../nn/index.js';

export const PAPER_FUSIONS = ['concat', 'attention', 'aspect-att', 'gmu'] as const;
export const OTHER_FUSIONS = ['concat-plain', 'modality-attention', 'gmu-arevalo'] as const;
export const FUSIONS = [...PAPER_FUSIONS, ...OTHER_FUSIONS] as const;
export type FusionKind = (typeof FUSIONS)[number];

export const REPRESENTATIONS = ['first-token', 'pooled'] as const;
export type Representation = (typeof REPRESENTATIONS)[number];

/** What one encoder gives a fusion. */
export interface ModalityStates {
  /** [B, D] first-token state of the last layer ([CLS] / <s>). */
  first: Tensor;
  /** [B, D'] pooled output (BERT's tanh pooler, ViT's pooler, ...). */
  pooled: Tensor;
  /** [B, L, D] every token state of the last layer (image side, only where the fusion reads them). */
  tokens?: Tensor;
}

/** Widths of a side's first-token state and pooled output. */
export interface SideWidths {
  first: number;
  pooled: number;
}

/** The representation a fusion reads when none is given: the paper's. */
export function defaultRepresentation(kind: FusionKind): Representation {
  return kind === 'aspect-att' ? 'pooled' : 'first-token';
}

export abstract class Fusion extends Module {
  abstract readonly kind: FusionKind;
  abstract readonly outDim: number;
  /** Whether forward reads the image side's token states. */
  readonly needsImageTokens: boolean = false;
  constructor(readonly representation: Representation) {
    super();
  }
  protected rep(s: ModalityStates): Tensor {
    return this.representation === 'pooled' ? s.pooled : s.first;
  }
  abstract forward(text: ModalityStates, image: ModalityStates): Tensor;
}

function width(w: SideWidths, r: Representation): number {
  return r === 'pooled' ? w.pooled : w.first;
}

/** f = ReLU(W [t; v]). */
export class ConcatFusion extends Fusion {
  readonly kind = 'concat';
  readonly fusion_layer: Linear;
  constructor(
    text: SideWidths,
    image: SideWidths,
    readonly outDim: number,
    representation: Representation,
  ) {
    super(representation);
    const dt = width(text, representation);
    const dv = width(image, representation);
    this.fusion_layer = this.child('fusion_layer', new Linear(dt + dv, outDim));
  }
  forward(text: ModalityStates, image: ModalityStates): Tensor {
    return this.fusion_layer.forward(cat([this.rep(text), this.rep(image)], 1)).relu();
  }
}

/** The text's first token attends over the image tokens; f = ReLU(W [t; a]). */
export class CrossAttentionFusion extends Fusion {
  readonly kind = 'attention';
  override readonly needsImageTokens = true;
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly fusion_layer: Linear;
  constructor(
    text: SideWidths,
    image: SideWidths,
    readonly outDim: number,
    representation: Representation,
  ) {
    super(representation);
    this.query = this.child('query', new Linear(text.first, outDim));
    this.key = this.child('key', new Linear(image.first, outDim));
    this.value = this.child('value', new Linear(image.first, outDim));
    this.fusion_layer = this.child('fusion_layer', new Linear(width(text, representation) + outDim, outDim));
  }
  /** [B, d]: the attended image vector of the text's first token. */
  attended(textFirst: Tensor, imageTokens: Tensor): Tensor {
    const q = this.query.forward(textFirst).unsqueeze(1); // [B, 1, d]
    const k = this.key.forward(imageTokens); // [B, L, d]
    const v = this.value.forward(imageTokens);
    const w = q
      .bmm(k.transpose(1, 2))
      .mul(this.outDim ** -0.5)
      .softmax(-1); // [B, 1, L]
    return w.bmm(v).squeeze(1);
  }
  forward(text: ModalityStates, image: ModalityStates): Tensor {
    if (!image.tokens)
      throw new Error('attention fusion: the image side has no token states (cached features without them?)');
    const a = this.attended(text.first, image.tokens);
    return this.fusion_layer.forward(cat([this.rep(text), a], 1)).relu();
  }
}

/** Scores the two vectors, softmax over the two, weighted sum, ReLU; per post. */
export class AspectAttentionFusion extends Fusion {
  readonly kind = 'aspect-att';
  readonly score: Linear;
  readonly outDim: number;
  constructor(text: SideWidths, image: SideWidths, representation: Representation) {
    super(representation);
    const dt = width(text, representation);
    const dv = width(image, representation);
    if (dt !== dv)
      throw new Error(
        `aspect-att fusion: the text and image vectors (${representation}) must be equally wide to be summed, got ${dt} and ${dv}`,
      );
    this.outDim = dt;
    this.score = this.child('score', new Linear(dt, 1));
  }
  forward(text: ModalityStates, image: ModalityStates): Tensor {
    const x = cat([this.rep(text).unsqueeze(1), this.rep(image).unsqueeze(1)], 1); // [B, 2, D]
    const w = this.score.forward(x).tanh().softmax(1); // [B, 2, 1]
    return w.transpose(1, 2).bmm(x).squeeze(1).relu();
  }
}

/** z = σ([t; v]), f = ReLU(W (z·t' + (1 − z)·v')). */
export class PaperGmuFusion extends Fusion {
  readonly kind = 'gmu';
  readonly text_proj: Linear;
  readonly image_proj: Linear;
  readonly fusion_layer: Linear;
  constructor(
    text: SideWidths,
    image: SideWidths,
    readonly outDim: number,
    representation: Representation,
  ) {
    super(representation);
    const dt = width(text, representation);
    const dv = width(image, representation);
    this.text_proj = this.child('text_proj', new Linear(dt, dt + dv));
    this.image_proj = this.child('image_proj', new Linear(dv, dt + dv));
    this.fusion_layer = this.child('fusion_layer', new Linear(dt + dv, outDim));
  }
  forward(text: ModalityStates, image: ModalityStates): Tensor {
    const t = this.rep(text);
    const v = this.rep(image);
    const z = cat([t, v], 1).sigmoid();
    const tp = this.text_proj.forward(t);
    const vp = this.image_proj.forward(v);
    // z·t' + (1 − z)·v' = v' + z·(t' − v')
    return this.fusion_layer.forward(vp.add(z.mul(tp.sub(vp)))).relu();
  }
}

/** [t; v], no fusion layer. */
export class PlainConcatFusion extends Fusion {
  readonly kind = 'concat-plain';
  readonly outDim: number;
  constructor(text: SideWidths, image: SideWidths, representation: Representation) {
    super(representation);
    this.outDim = width(text, representation) + width(image, representation);
  }
  forward(text: ModalityStates, image: ModalityStates): Tensor {
    return cat([this.rep(text), this.rep(image)], 1);
  }
}

/** Softmax weighting of the two projected modality vectors. */
export class ModalityAttentionFusion extends Fusion {
  readonly kind = 'modality-attention';
  readonly text_proj: Linear;
  readonly image_proj: Linear;
  readonly score: Linear;
  constructor(
    text: SideWidths,
    image: SideWidths,
    readonly outDim: number,
    representation: Representation,
  ) {
    super(representation);
    this.text_proj = this.child('text_proj', new Linear(width(text, representation), outDim));
    this.image_proj = this.child('image_proj', new Linear(width(image, representation), outDim));
    this.score = this.child('score', new Linear(outDim, 1, { bias: false }));
  }
  forward(text: ModalityStates, image: ModalityStates): Tensor {
    const ht = this.text_proj.forward(this.rep(text));
    const hv = this.image_proj.forward(this.rep(image));
    const scores = cat([this.score.forward(F.tanh(ht)), this.score.forward(F.tanh(hv))], 1);
    const a = F.softmax(scores, 1);
    return ht.mul(a.narrow(1, 0, 1)).add(hv.mul(a.narrow(1, 1, 1)));
  }
}

/** Arevalo et al.'s GMU with a learned gate. */
export class ArevaloGmuFusion extends Fusion {
  readonly kind = 'gmu-arevalo';
  readonly text_hidden: Linear;
  readonly image_hidden: Linear;
  readonly gate: Linear;
  constructor(
    text: SideWidths,
    image: SideWidths,
    readonly outDim: number,
    representation: Representation,
  ) {
    super(representation);
    const dt = width(text, representation);
    const dv = width(image, representation);
    this.text_hidden = this.child('text_hidden', new Linear(dt, outDim, { bias: false }));
    this.image_hidden = this.child('image_hidden', new Linear(dv, outDim, { bias: false }));
    this.gate = this.child('gate', new Linear(dt + dv, outDim, { bias: false }));
  }
  forward(text: ModalityStates, image: ModalityStates): Tensor {
    const t = this.rep(text);
    const v = this.rep(image);
    const ht = F.tanh(this.text_hidden.forward(t));
    const hv = F.tanh(this.image_hidden.forward(v));
    const z = F.sigmoid(this.gate.forward(cat([t, v], 1)));
    return hv.add(z.mul(ht.sub(hv)));
  }
}

export function isFusionKind(x: unknown): x is FusionKind {
  return typeof x === 'string' && (FUSIONS as readonly string[]).includes(x);
}

export function isRepresentation(x: unknown): x is Representation {
  return typeof x === 'string' && (REPRESENTATIONS as readonly string[]).includes(x);
}

export interface FusionOptions {
  /** Output width of the fusion layer / projections (default: the text side's width). */
  fusionDim?: number;
  /** Default: the paper's for the kind (defaultRepresentation). */
  representation?: Representation;
}

/**
 * A sole vector per side (first-token state = pooled output) for recipes whose towers give one embedding,
 * such as CLIP's projected embeddings.
 */
export function oneVector(x: Tensor): ModalityStates {
  return { first: x, pooled: x };
}

export function buildFusion(kind: FusionKind, text: SideWidths, image: SideWidths, o: FusionOptions = {}): Fusion {
  if (!isFusionKind(kind))
    throw new Error(`fusion: ${JSON.stringify(kind)} is not supported (supported: ${FUSIONS.join(', ')})`);
  const r = o.representation ?? defaultRepresentation(kind);
  if (!isRepresentation(r))
    throw new Error(
      `fusion: representation ${JSON.stringify(r)} is not supported (supported: ${REPRESENTATIONS.join(', ')})`,
    );
  if (o.fusionDim !== undefined && (!Number.isInteger(o.fusionDim) || o.fusionDim < 1))
    throw new Error(`fusion: "fusionDim" must be a positive integer, got ${o.fusionDim}`);
  const d = o.fusionDim ?? width(text, r);
  switch (kind) {
    case 'concat':
      return new ConcatFusion(text, image, d, r);
    case 'attention':
      return new CrossAttentionFusion(text, image, d, r);
    case 'aspect-att':
      return new AspectAttentionFusion(text, image, r);
    case 'gmu':
      return new PaperGmuFusion(text, image, d, r);
    case 'concat-plain':
      return new PlainConcatFusion(text, image, r);
    case 'modality-attention':
      return new ModalityAttentionFusion(text, image, d, r);
    case 'gmu-arevalo':
      return new ArevaloGmuFusion(text, image, d, r);
  }
}

/** The same states with rows picked (for mismatched pairs); token states kept only where present. */
export function mapStates(s: ModalityStates, fn: (t: Tensor) => Tensor): ModalityStates {
  return { first: fn(s.first), pooled: fn(s.pooled), ...(s.tokens ? { tokens: fn(s.tokens) } : {}) };
}
