/**
 * The recipe registry: every file in ./recipes/ that exports `recipe` (see recipe.ts) is a recipe, found when
 * this module loads, so adding a recipe is adding one file there. Lookups by name and by a checkpoint's
 * model_type, and the checks of a spec against what its recipe declares (options, model folders), live here.
 */
import { readdirSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOptionValue, CHECKPOINT_KEYS, COMMON_KEYS, type Recipe, type RecipeSpec } from './recipe.js';

async function discover(): Promise<Map<string, Recipe>> {
  const self = fileURLToPath(import.meta.url);
  const ext = extname(self); // .js when compiled, .ts under tsx
  const dir = new URL('./recipes/', import.meta.url);
  const files = readdirSync(dir)
    .filter((f) => extname(f) === ext && !f.endsWith(`.d${ext}`) && !f.endsWith(`.test${ext}`))
    .sort();
  const found = new Map<string, Recipe>();
  for (const f of files) {
    const mod = (await import(new URL(f, dir).href)) as { recipe?: Recipe };
    if (!mod.recipe) continue; // a helper module of the recipes, not a recipe
    const name = mod.recipe.name;
    if (found.has(name)) throw new Error(`recipes/${f}: recipe name "${name}" is already taken`);
    if (basename(f, ext) !== name) throw new Error(`recipes/${f}: a recipe file is named after its recipe ("${name}")`);
    found.set(name, mod.recipe);
  }
  return found;
}

const REGISTRY: ReadonlyMap<string, Recipe> = await discover();

/** Every recipe name, sorted. */
export const RECIPES: readonly string[] = [...REGISTRY.keys()];
export type RecipeName = string;

export function allRecipes(): Recipe[] {
  return [...REGISTRY.values()];
}

/** The recipe of a name; `where` names the source (a flag, a config field) in the error. */
export function recipeNamed(name: unknown, where = 'recipe'): Recipe {
  const r = typeof name === 'string' ? REGISTRY.get(name) : undefined;
  if (!r) throw new Error(`${where}: ${JSON.stringify(name)} is not supported (supported: ${RECIPES.join(', ')})`);
  return r;
}

/** The recipe a single checkpoint of this model_type selects when none is named, if any. */
export function recipeForModelType(modelType: string): Recipe | undefined {
  return allRecipes().find((r) => r.modelTypes?.includes(modelType));
}

/** Model types that select a recipe on their own (for messages). */
export function singleCheckpointModelTypes(): string[] {
  return allRecipes().flatMap((r) => [...(r.modelTypes ?? [])]);
}

/** The recipes that declare an option key (for "does not apply" messages). */
export function recipesWithOption(key: string): string[] {
  return allRecipes()
    .filter((r) => r.options.some((o) => o.key === key))
    .map((r) => r.name);
}

/**
 * Checks a spec against its recipe: every option is declared by the recipe (else an error naming the recipes
 * it is for) and well-typed, the model folders are the ones the recipe reads. Returns the recipe.
 */
export function checkSpec(spec: RecipeSpec): Recipe {
  const recipe = recipeNamed(spec.recipe);
  const where = `recipe "${recipe.name}"`;
  for (const [key, v] of Object.entries(spec)) {
    if (v === undefined || (COMMON_KEYS as readonly string[]).includes(key)) continue;
    if ((CHECKPOINT_KEYS as readonly string[]).includes(key)) continue;
    const opt = recipe.options.find((o) => o.key === key);
    if (!opt) {
      const others = recipesWithOption(key);
      throw new Error(
        others.length
          ? `${where}: option "${key}" does not apply (it is for: ${others.join(', ')})`
          : `${where}: unknown option "${key}" (its options: ${recipe.options.map((o) => o.key).join(', ') || 'none'})`,
      );
    }
    checkOptionValue(opt, v, where);
  }
  for (const key of CHECKPOINT_KEYS) {
    const need = recipe.checkpoints[key];
    const given = spec[key] !== undefined && spec[key] !== '';
    if (given && !need) {
      const wanted = recipe.checkpoints.model
        ? 'model (one checkpoint)'
        : CHECKPOINT_KEYS.filter((k) => recipe.checkpoints[k]).join(' and ');
      throw new Error(`${where}: give ${wanted}, not ${key}`);
    }
    if (!given && need === 'required') throw new Error(`${where}: "${key}" (a model folder) is required`);
  }
  recipe.check?.(spec);
  return recipe;
}
