/** Benchmark items over starter catalog models, every setting and input type represented: the bench CLI tests run on these in seconds. */
const args = (over: object = {}) => ({
  sampler: 'DPM++ 2M Karras',
  steps: 30,
  cfg_scale: 7,
  width: 512,
  height: 768,
  ...over,
});
export const STARTER_ITEMS = [
  {
    id: 's1',
    input_type: 'single',
    setting: 'supervised',
    messages: ['photo portrait of an old fisherman, dramatic light'],
    gold: { prompt: 'photo, portrait, old fisherman, dramatic lighting', model_id: 4201, arguments: args() },
  },
  {
    id: 's2',
    input_type: 'single',
    setting: 'few-shot',
    messages: ['a ghibli style village on a hill'],
    gold: { prompt: 'ghibli style, village, hill', model_id: 6526, arguments: args({ sampler: 'Euler a', steps: 25 }) },
  },
  {
    id: 'h1',
    input_type: 'history',
    setting: 'supervised',
    messages: ['a fantasy castle', 'make it dreamy, painterly'],
    gold: { prompt: 'fantasy castle, dreamy, painterly', model_id: 4384, arguments: args({ width: 768, height: 512 }) },
  },
  {
    id: 'h2',
    input_type: 'history',
    setting: 'few-shot',
    messages: ['pixel art of a farm', 'with a windmill'],
    gold: { prompt: 'pixel art, farm, windmill', model_id: 44960, arguments: args({ steps: 20 }) },
  },
  {
    id: 'm1',
    input_type: 'multimodal',
    setting: 'supervised',
    messages: ['this woman, but as a realistic photo'],
    images: ['data:image/png;base64,iVBORw0KGgo='],
    gold: { prompt: 'realistic photo, woman', model_id: 25694, arguments: args() },
  },
  {
    id: 'm2',
    input_type: 'multimodal',
    setting: 'few-shot',
    messages: ['this room in anime lineart'],
    images: ['data:image/png;base64,iVBORw0KGgo='],
    gold: { prompt: 'anime lineart, room', model_id: 16014, arguments: args() },
  },
];

export const STARTER_ITEMS_JSONL = `${STARTER_ITEMS.map((i) => JSON.stringify(i)).join('\n')}\n`;
