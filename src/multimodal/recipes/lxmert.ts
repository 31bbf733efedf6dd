// lxmert: a two-stream cross-modality transformer over text and image regions (unc-nlp/lxmert-base-uncased).
import { noGrad } from '../../tensor/index.js';
import { readModelConfig } from '../../io/model-folder.js';
import { loadLxmertCheckpoint } from '../../models/lxmert.js';
import { loadImageEncoder, withWeights } from '../encoders.js';
import { LXMERT_ITC, LxmertClassifier, type LxmertItc } from '../lxmert.js';
import { folderOf, subConfig, type Recipe } from '../recipe.js';
import { FREEZE_IMAGE_OPTION, REPRESENTATION_OPTION } from './shared-options.js';

export const recipe: Recipe<LxmertClassifier> = {
  name: 'lxmert',
  summary: "LXMERT over region features: given in the data, or pooled from an image encoder's patches",
  checkpoints: { model: 'required', imageModel: 'optional' },
  modelTypes: ['lxmert'],
  modalities: ['text', 'image'],
  options: [
    {
      key: 'regions',
      type: 'int-pair',
      help: 'pool the patch grid to [rows, cols] regions (default: every patch is a region)',
    },
    FREEZE_IMAGE_OPTION,
    REPRESENTATION_OPTION,
    {
      key: 'itcRepresentation',
      type: 'enum',
      choices: LXMERT_ITC,
      default: 'max-pool',
      help: "ITC between the max-pooled language and vision outputs (the paper's) or the unimodal encodings",
    },
    {
      key: 'itcDetachText',
      type: 'boolean',
      default: true,
      help: "with max-pool ITC, no ITC gradient into the language side (the paper's)",
    },
  ],
  configs: (spec, read) => ({
    model_config: read(folderOf(spec, 'model')),
    ...(spec.imageModel ? { vision_config: read(folderOf(spec, 'imageModel')) } : {}),
  }),
  // region features come from an image encoder only with imageModel (else the images' own regions)
  frozenImageEncoder: (cfg) => cfg.vision_config !== undefined && cfg.freezeImage !== false,
  check: (spec) => {
    if (spec.freezeImage !== undefined && !spec.imageModel)
      throw new Error('recipe "lxmert": option "freezeImage" needs imageModel (region features from an image encoder)');
  },
  build: ({ head, options, cfg, where }) =>
    new LxmertClassifier({
      ...head,
      ...(options as {
        regions?: [number, number];
        freezeImage?: boolean;
        representation?: 'first-token' | 'pooled';
        itcRepresentation?: LxmertItc;
        itcDetachText?: boolean;
      }),
      model_config: subConfig(cfg, 'model_config', where),
      ...(cfg.vision_config !== undefined ? { vision_config: subConfig(cfg, 'vision_config', where) } : {}),
    }),
  loadPretrained: (m, spec) =>
    noGrad(() => {
      const dir = folderOf(spec, 'model');
      // a visual projection of another width than the image encoder's is replaced (and fine-tuned)
      const own = readModelConfig(dir).visual_feat_dim ?? 2048;
      const fresh = own !== m.lxmert.config.visual_feat_dim;
      withWeights(dir, (s) => loadLxmertCheckpoint(m.lxmert, s, { newVisualProjection: fresh }));
      if (m.image_encoder) {
        const encoder = m.image_encoder;
        withWeights(folderOf(spec, 'imageModel'), (s) => loadImageEncoder(encoder, s));
      }
    }),
};
