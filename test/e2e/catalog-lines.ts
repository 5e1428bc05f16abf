/** JSONL lines of small catalogs that e2e specs import (one checkpoint per model, one demonstration each). */
export const model = (id: number, name: string, tags: string[]) =>
  JSON.stringify({
    id,
    name,
    type: 'Checkpoint',
    tags,
    base_model: 'SD 1.5',
    trained_words: [],
    file: `${name.replace(/\W+/g, '_')}.safetensors`,
    hash: '',
    downloads: 100,
    rating: 5,
    description: `${name}: ${tags.join(', ')}`,
  });

export const demonstration = (id: number, modelId: number, prompt: string) =>
  JSON.stringify({
    image_id: id,
    model_id: modelId,
    prompt,
    negative_prompt: 'blurry',
    arguments: { sampler: 'Euler a', steps: 24, cfg_scale: 6, width: 512, height: 768 },
  });
