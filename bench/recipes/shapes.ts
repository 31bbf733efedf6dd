// bench/recipes: the three recipes at the sizes users fine-tune on a GPU (issue #10's PyTorch figures were
// taken at these): late fusion BERT-base + frozen ViT-B/16 (batch 16), ViLT-B/32 (batch 16, 384 px, 40 text
// positions) and CLIP-B/32 (batch 32). Each starts from a golden checkpoint's config (the architecture's
// every other setting) with these overrides; both engines read the same file.
import { join } from 'node:path';

export interface RecipeShape {
  /** The recipe spec's checkpoint folders (their config.json files are the base configs). */
  folders: Record<string, string>;
  /** Per sub-config of the recipe config (text_config, vision_config, model_config), what to override. */
  overrides: Record<string, Record<string, unknown>>;
  batch: number;
  seq: number;
  image: number;
  vocab: number;
  /** ViLT takes a pixel mask. */
  pixel_mask?: boolean;
}

export function recipeShapes(golden: string, layers = 12): Record<string, RecipeShape> {
  const base = { hidden_size: 768, num_hidden_layers: layers, num_attention_heads: 12, intermediate_size: 3072 };
  const bertVocab = { vocab_size: 30522, max_position_embeddings: 512 };
  return {
    'late-fusion': {
      folders: { textModel: join(golden, 'bert'), imageModel: join(golden, 'vit') },
      overrides: {
        text_config: { ...base, ...bertVocab, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 },
        vision_config: { ...base, image_size: 224, patch_size: 16, pooler_output_size: 768 },
      },
      batch: 16,
      seq: 64,
      image: 224,
      vocab: 30522,
    },
    vilt: {
      folders: { model: join(golden, 'vilt') },
      overrides: {
        model_config: { ...base, vocab_size: 30522, max_position_embeddings: 40, image_size: 384, patch_size: 32 },
      },
      batch: 16,
      seq: 40,
      image: 384,
      vocab: 30522,
      pixel_mask: true,
    },
    clip: {
      folders: { model: join(golden, 'clip') },
      overrides: {
        model_config: {
          projection_dim: 512,
          text_config: {
            hidden_size: 512,
            num_hidden_layers: layers,
            num_attention_heads: 8,
            intermediate_size: 2048,
            max_position_embeddings: 77,
            vocab_size: 49408,
            projection_dim: 512,
          },
          vision_config: { ...base, image_size: 224, patch_size: 32, projection_dim: 512 },
        },
      },
      batch: 32,
      seq: 64,
      image: 224,
      vocab: 49408,
    },
  };
}
