// The recipe configurations the multimodal tests build from the golden tiny model folders.
import type { RecipeSpec } from '../../src/multimodal/builder.js';
import { dir } from './batch.js';

export const LABELS = { numLabels: 3, labelNames: ['negative', 'neutral', 'positive'] };

export interface Case {
  name: string;
  spec: RecipeSpec;
  /** Golden folders whose inputs give the text and the pixels. */
  text: string;
  image: string;
  /** Expected widths: ITC embeddings and pair. */
  itc: number;
  pair: number;
}

export const CASES: Case[] = [
  {
    name: 'late-fusion concat bert+vit',
    spec: { recipe: 'late-fusion', textModel: dir('bert'), imageModel: dir('vit'), ...LABELS },
    text: 'bert',
    image: 'vit',
    itc: 512,
    pair: 32,
  },
  {
    name: 'late-fusion attention roberta+clip',
    spec: {
      recipe: 'late-fusion',
      textModel: dir('roberta'),
      imageModel: dir('clip'),
      fusion: 'attention',
      fusionDim: 16,
      ...LABELS,
    },
    text: 'roberta',
    image: 'clip',
    itc: 512,
    pair: 16,
  },
  {
    name: 'late-fusion gmu xlm-roberta+siglip',
    spec: {
      recipe: 'late-fusion',
      textModel: dir('xlm-roberta'),
      imageModel: dir('siglip'),
      fusion: 'gmu',
      // SigLIP has no [CLS] token: its pooled output (attention pooling) stands for the image
      representation: 'pooled',
      itcDim: 8,
      ...LABELS,
    },
    text: 'xlm-roberta',
    image: 'siglip',
    itc: 8,
    pair: 32,
  },
  {
    name: 'mmbt bert+vit',
    spec: { recipe: 'mmbt', textModel: dir('bert'), imageModel: dir('vit'), ...LABELS },
    text: 'bert',
    image: 'vit',
    itc: 256,
    pair: 32,
  },
  {
    name: 'mmbt roberta+vit (2 image tokens)',
    spec: { recipe: 'mmbt', textModel: dir('roberta'), imageModel: dir('vit'), imageTokens: 2, ...LABELS },
    text: 'roberta',
    image: 'vit',
    itc: 256,
    pair: 32,
  },
  {
    name: 'vilt',
    spec: { recipe: 'vilt', model: dir('vilt'), ...LABELS },
    text: 'vilt',
    image: 'vilt',
    itc: 32,
    pair: 32,
  },
  {
    name: 'lxmert over vit patches',
    spec: { recipe: 'lxmert', model: dir('lxmert'), imageModel: dir('vit'), regions: [2, 2], ...LABELS },
    text: 'lxmert',
    image: 'vit',
    itc: 32,
    pair: 32,
  },
  {
    name: 'clip',
    spec: { recipe: 'clip', model: dir('clip'), ...LABELS },
    text: 'clip',
    image: 'clip',
    itc: 24,
    pair: 24,
  },
  {
    name: 'siglip gmu',
    spec: { recipe: 'siglip', model: dir('siglip'), fusion: 'gmu', ...LABELS },
    text: 'siglip',
    image: 'siglip',
    itc: 32,
    pair: 32,
  },
  {
    name: 'blip',
    spec: { recipe: 'blip', model: dir('blip-itm'), ...LABELS },
    text: 'blip-itm',
    image: 'blip-itm',
    itc: 256,
    pair: 32,
  },
  {
    name: 'late-fusion aspect-att bert+vit',
    spec: { recipe: 'late-fusion', textModel: dir('bert'), imageModel: dir('vit'), fusion: 'aspect-att', ...LABELS },
    text: 'bert',
    image: 'vit',
    itc: 512,
    pair: 32,
  },
  // tandem's earlier definitions, kept as options: they build, round-trip and train like the paper's
  {
    name: 'late-fusion modality-attention (pooled, ITM dropout)',
    spec: {
      recipe: 'late-fusion',
      textModel: dir('bert'),
      imageModel: dir('vit'),
      fusion: 'modality-attention',
      representation: 'pooled',
      fusionDim: 16,
      itmDropout: true,
      ...LABELS,
    },
    text: 'bert',
    image: 'vit',
    itc: 512,
    pair: 16,
  },
  {
    name: 'vilt (pooler, ITC projections)',
    spec: { recipe: 'vilt', model: dir('vilt'), representation: 'pooled', itcProjection: true, ...LABELS },
    text: 'vilt',
    image: 'vilt',
    itc: 256,
    pair: 32,
  },
  {
    name: 'lxmert (pooler, unimodal ITC)',
    spec: {
      recipe: 'lxmert',
      model: dir('lxmert'),
      imageModel: dir('vit'),
      regions: [2, 2],
      representation: 'pooled',
      itcRepresentation: 'unimodal',
      ...LABELS,
    },
    text: 'lxmert',
    image: 'vit',
    itc: 256,
    pair: 32,
  },
];
