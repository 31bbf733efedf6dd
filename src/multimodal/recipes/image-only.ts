// image-only: the paper's image baseline, a linear classifier on the image model's [CLS] state (the encoder
// fine-tuned by default, as the paper's code). One modality: ITC and ITM do not apply.
import { noGrad } from '../../tensor/index.js';
import { loadImageEncoder, withWeights } from '../encoders.js';
import { folderOf, subConfig, type Recipe } from '../recipe.js';
import { ImageOnlyClassifier } from '../unimodal.js';
import { REPRESENTATION_OPTION } from './shared-options.js';

export const recipe: Recipe<ImageOnlyClassifier> = {
  name: 'image-only',
  summary: 'image baseline: a linear classifier on the image encoder (no ITC / ITM)',
  checkpoints: { imageModel: 'required' },
  options: [
    REPRESENTATION_OPTION,
    {
      key: 'freezeImage',
      type: 'boolean',
      default: false,
      help: 'keep the image encoder frozen (the paper fine-tunes it in this baseline)',
      cli: { flag: 'freeze-image-encoder' },
    },
  ],
  modalities: ['image'],
  configs: (spec, read) => ({ vision_config: read(folderOf(spec, 'imageModel')) }),
  frozenImageEncoder: (cfg) => cfg.freezeImage === true,
  build: ({ head, options, cfg, where }) =>
    new ImageOnlyClassifier({ ...head, ...options, vision_config: subConfig(cfg, 'vision_config', where) }),
  loadPretrained: (m, spec) =>
    noGrad(() => withWeights(folderOf(spec, 'imageModel'), (s) => loadImageEncoder(m.image_encoder, s))),
};
