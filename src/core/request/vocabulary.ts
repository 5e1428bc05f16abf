/**
 * Word groups the request rules reason with. Each group is a closed class of English words whose members
 * exclude one another in a picture (noon vs night, watercolor vs photo), or a class of words that say how
 * a picture looks rather than what it shows (style, quality, lighting, camera, medium).
 *
 * Entries are lower-case phrases of one or more words; matching is on whole words.
 */

/** Groups whose members contradict each other: a later turn naming one replaces earlier ones. */
export type ExclusiveGroup = 'time of day' | 'weather' | 'season' | 'medium';

/**
 * The members of each exclusive group. A phrase may sit in two groups ("sunny" is weather and implies
 * daytime), so "make it night" removes "sunny" as well as "noon".
 */
export const EXCLUSIVE_GROUPS: Readonly<Record<ExclusiveGroup, readonly string[]>> = {
  'time of day': [
    'dawn', 'daybreak', 'sunrise', 'morning', 'early morning', 'noon', 'midday', 'high noon', 'afternoon', 'daytime',
    'day', 'daylight', 'broad daylight', 'sunset', 'sundown', 'dusk', 'evening', 'twilight', 'golden hour', 'blue hour',
    'night', 'nighttime', 'night time', 'midnight', 'late night', 'at night', 'sunny', 'sunlit', 'sunshine', 'moonlit',
    'moonlight', 'starry night',
  ],
  weather: [
    'sunny', 'sunshine', 'clear sky', 'clear skies', 'cloudless', 'cloudy', 'overcast', 'rain', 'rainy', 'raining',
    'drizzle', 'storm', 'stormy', 'thunderstorm', 'lightning storm', 'snow', 'snowy', 'snowing', 'snowfall', 'blizzard',
    'fog', 'foggy', 'mist', 'misty', 'haze', 'hazy', 'windy', 'hail',
  ],
  season: ['spring', 'springtime', 'summer', 'summertime', 'autumn', 'fall', 'autumnal', 'winter', 'wintertime'],
  medium: [
    'photo', 'photograph', 'photography', 'photographic', 'photorealistic', 'photorealism', 'realistic', 'hyperrealistic',
    'hyper realistic', 'realism', 'raw photo', 'dslr', 'anime', 'manga', 'cartoon', 'cartoonish', 'comic', 'comic book',
    'watercolor', 'watercolour', 'oil painting', 'acrylic painting', 'gouache', 'painting', 'painted', 'sketch',
    'pencil sketch', 'pencil drawing', 'charcoal', 'charcoal drawing', 'ink drawing', 'ink', 'pastel drawing', 'crayon',
    '3d', '3d render', 'render', 'cgi', 'claymation', 'clay', 'low poly', 'pixel art', 'pixel', 'vector art', 'vector',
    'digital art', 'digital painting', 'illustration', 'cel shaded', 'line art', 'lineart', 'ukiyo-e', 'ukiyo e',
    'stained glass', 'papercut', 'paper cut', 'origami',
  ],
};

/**
 * Medium families: terms of one family do not contradict each other ("anime" and "manga"), terms of two do
 * ("watercolor" and "photorealistic"). Used to keep neighbours from adding a medium that fights the request.
 */
export const MEDIUM_FAMILY: Readonly<Record<string, 'photo' | 'anime' | 'painting' | 'drawing' | '3d' | 'pixel' | 'graphic'>> = {
  photo: 'photo', photograph: 'photo', photography: 'photo', photographic: 'photo', photorealistic: 'photo',
  photorealism: 'photo', realistic: 'photo', hyperrealistic: 'photo', 'hyper realistic': 'photo', realism: 'photo',
  'raw photo': 'photo', dslr: 'photo',
  anime: 'anime', manga: 'anime', cartoon: 'anime', cartoonish: 'anime', comic: 'anime', 'comic book': 'anime',
  'cel shaded': 'anime',
  watercolor: 'painting', watercolour: 'painting', 'oil painting': 'painting', 'acrylic painting': 'painting',
  gouache: 'painting', painting: 'painting', painted: 'painting', 'digital painting': 'painting', 'digital art': 'painting',
  illustration: 'painting',
  sketch: 'drawing', 'pencil sketch': 'drawing', 'pencil drawing': 'drawing', charcoal: 'drawing',
  'charcoal drawing': 'drawing', 'ink drawing': 'drawing', ink: 'drawing', 'pastel drawing': 'drawing', crayon: 'drawing',
  'line art': 'drawing', lineart: 'drawing',
  '3d': '3d', '3d render': '3d', render: '3d', cgi: '3d', claymation: '3d', clay: '3d', 'low poly': '3d',
  'pixel art': 'pixel', pixel: 'pixel',
  'vector art': 'graphic', vector: 'graphic', 'ukiyo-e': 'painting', 'ukiyo e': 'painting', 'stained glass': 'graphic',
  papercut: 'graphic', 'paper cut': 'graphic', origami: 'graphic',
};

/** Colour words: a later turn giving a thing another colour replaces the earlier colour of that thing. */
export const COLOURS: ReadonlySet<string> = new Set([
  'red', 'orange', 'yellow', 'green', 'blue', 'purple', 'violet', 'pink', 'brown', 'black', 'white', 'gray', 'grey',
  'silver', 'gold', 'golden', 'teal', 'cyan', 'magenta', 'beige', 'navy', 'maroon', 'turquoise', 'crimson', 'scarlet',
  'blonde', 'blond', 'lavender', 'emerald', 'ivory', 'indigo', 'amber', 'copper', 'bronze', 'lilac', 'mint',
  'burgundy', 'olive', 'tan', 'peach', 'coral', 'rainbow',
]);

/**
 * Words that say how a picture is made or finished, not what is in it: quality, detail, resolution,
 * lighting, camera and lens, rendering, medium. A term the neighbouring demonstrations vote for may be
 * added to the person's prompt only if all its content words are here (and the catalog uses it across
 * many models: see `addableTerms` in the default engine's index).
 */
export const STYLE_WORDS: ReadonlySet<string> = new Set([
  // quality and finish
  'masterpiece', 'best', 'quality', 'high', 'higher', 'highest', 'top', 'ultra', 'super', 'extremely', 'extreme',
  'highly', 'very', 'detailed', 'detail', 'details', 'intricate', 'fine', 'finely', 'sharp', 'sharpness', 'crisp',
  'clean', 'perfect', 'beautiful', 'stunning', 'gorgeous', 'amazing', 'awesome', 'epic', 'professional', 'award',
  'winning', 'official', 'aesthetic', 'aesthetics', 'elegant', 'exquisite', 'polished', 'refined', 'insanely',
  'hyper', 'hyperdetailed', 'hyperrealism', 'ultrarealistic', 'ultradetailed', 'realistic', 'photorealistic',
  'photorealism', 'realism', 'hyperrealistic', 'lifelike', 'natural', 'trending', 'featured', 'artstation', 'pixiv',
  'deviantart', 'behance', 'cgsociety', 'absurdres', 'highres', 'hires', 'resolution', 'res', 'definition', 'hd',
  'uhd', 'fhd', 'hdr', '4k', '8k', '16k', '32k', '64k', 'k', 'wallpaper', 'unity', 'cg', 'extremely',
  'composition', 'symmetrical', 'proportions', 'texture', 'textures', 'textured', 'skin', 'pores',
  // lighting
  'lighting', 'light', 'lights', 'lit', 'illumination', 'illuminated', 'cinematic', 'dramatic', 'soft', 'volumetric',
  'rim', 'backlight', 'backlit', 'backlighting', 'studio', 'ambient', 'diffused', 'diffuse', 'global', 'raytracing',
  'ray', 'tracing', 'traced', 'subsurface', 'scattering', 'specular', 'reflections', 'shadows', 'shadow', 'contrast',
  'moody', 'atmospheric', 'atmosphere', 'glow', 'glowing', 'bloom', 'lens', 'flare', 'vivid', 'vibrant', 'colors',
  'colours', 'color', 'colour', 'colorful', 'colourful', 'saturated', 'desaturated', 'muted', 'tones', 'toned',
  'palette', 'grading', 'graded', 'warm', 'cool', 'hard',
  // camera and lens
  'photo', 'photograph', 'photography', 'photographic', 'raw', 'dslr', 'camera', 'shot', 'bokeh', 'depth', 'field',
  'dof', 'focus', 'focused', 'blurry', 'blurred', 'background', 'film', 'grain', 'analog', 'analogue', 'kodak',
  'portra', 'fujifilm', 'fuji', 'canon', 'nikon', 'sony', 'leica', 'hasselblad', 'eos', 'mm', 'f', 'aperture',
  'exposure', 'iso', 'shutter', 'telephoto', 'bokeh', 'tilt', 'shift', 'lenses', 'wide', 'angle', 'photoshoot',
  'editorial', 'magazine', 'cover',
  // rendering and medium
  'render', 'rendered', 'rendering', 'octane', 'unreal', 'engine', 'redshift', 'vray', 'blender', 'cinema4d', 'c4d',
  'zbrush', '3d', 'cgi', 'digital', 'art', 'artwork', 'painting', 'illustration', 'concept', 'oil', 'watercolor',
  'watercolour', 'sketch', 'drawing', 'style', 'styled', 'anime', 'manga', 'cel', 'shading', 'shaded', 'lineart',
  'line', 'ink', 'pencil', 'charcoal', 'pastel', 'gouache', 'acrylic', 'canvas', 'brushstrokes', 'brush', 'strokes',
  'impasto', 'matte', 'smooth', 'physically', 'based', 'pbr', 'stylized', 'vector', 'flat', 'graphic', 'design',
]);

/** Words that say what shape the picture should be. */
export const SHAPE_CUES: readonly { phrase: string; orientation: Orientation }[] = [
  { phrase: 'landscape orientation', orientation: 'landscape' },
  { phrase: 'landscape format', orientation: 'landscape' },
  { phrase: 'portrait orientation', orientation: 'portrait' },
  { phrase: 'portrait format', orientation: 'portrait' },
  { phrase: 'phone wallpaper', orientation: 'portrait' },
  { phrase: 'phone background', orientation: 'portrait' },
  { phrase: 'mobile wallpaper', orientation: 'portrait' },
  { phrase: 'lock screen', orientation: 'portrait' },
  { phrase: 'desktop wallpaper', orientation: 'landscape' },
  { phrase: 'desktop background', orientation: 'landscape' },
  { phrase: 'full body', orientation: 'portrait' },
  { phrase: 'full-body', orientation: 'portrait' },
  { phrase: 'full length', orientation: 'portrait' },
  { phrase: 'head to toe', orientation: 'portrait' },
  { phrase: 'story format', orientation: 'portrait' },
  { phrase: 'instagram story', orientation: 'portrait' },
  { phrase: 'phone screen', orientation: 'portrait' },
  { phrase: 'tiktok', orientation: 'portrait' },
  { phrase: 'wide shot', orientation: 'landscape' },
  { phrase: 'wide angle', orientation: 'landscape' },
  { phrase: 'wide format', orientation: 'landscape' },
  { phrase: 'tall format', orientation: 'portrait' },
  { phrase: 'ultra wide', orientation: 'landscape' },
  { phrase: 'square', orientation: 'square' },
  { phrase: 'profile picture', orientation: 'square' },
  { phrase: 'avatar', orientation: 'square' },
  { phrase: 'icon', orientation: 'square' },
  { phrase: 'instagram post', orientation: 'square' },
  { phrase: 'album cover', orientation: 'square' },
  { phrase: '1:1', orientation: 'square' },
  { phrase: 'widescreen', orientation: 'landscape' },
  { phrase: 'wide', orientation: 'landscape' },
  { phrase: 'panoramic', orientation: 'landscape' },
  { phrase: 'panorama', orientation: 'landscape' },
  { phrase: 'banner', orientation: 'landscape' },
  { phrase: 'header', orientation: 'landscape' },
  { phrase: 'cinematic widescreen', orientation: 'landscape' },
  { phrase: 'horizontal', orientation: 'landscape' },
  { phrase: 'landscape', orientation: 'landscape' },
  { phrase: 'scenery', orientation: 'landscape' },
  { phrase: 'vista', orientation: 'landscape' },
  { phrase: '16:9', orientation: 'landscape' },
  { phrase: '21:9', orientation: 'landscape' },
  { phrase: '3:2', orientation: 'landscape' },
  { phrase: '4:3', orientation: 'landscape' },
  { phrase: '2:1', orientation: 'landscape' },
  { phrase: '9:16', orientation: 'portrait' },
  { phrase: '2:3', orientation: 'portrait' },
  { phrase: '3:4', orientation: 'portrait' },
  { phrase: '4:5', orientation: 'portrait' },
  { phrase: 'vertical', orientation: 'portrait' },
  { phrase: 'tall', orientation: 'portrait' },
  { phrase: 'poster', orientation: 'portrait' },
  { phrase: 'book cover', orientation: 'portrait' },
  { phrase: 'movie poster', orientation: 'portrait' },
  { phrase: 'portrait', orientation: 'portrait' },
];

export type Orientation = 'landscape' | 'portrait' | 'square';

/** Width : height the shape cues ask for, beyond orientation: "16:9" and "panoramic" are wider than "landscape". */
export const ASPECT_CUES: readonly { phrase: string; aspect: number }[] = [
  { phrase: '21:9', aspect: 21 / 9 },
  { phrase: 'ultra wide', aspect: 21 / 9 },
  { phrase: 'panoramic', aspect: 2.2 },
  { phrase: 'panorama', aspect: 2.2 },
  { phrase: 'banner', aspect: 2.5 },
  { phrase: 'header', aspect: 2.5 },
  { phrase: '2:1', aspect: 2 },
  { phrase: '16:9', aspect: 16 / 9 },
  { phrase: 'widescreen', aspect: 16 / 9 },
  { phrase: 'desktop wallpaper', aspect: 16 / 9 },
  { phrase: 'desktop background', aspect: 16 / 9 },
  { phrase: '3:2', aspect: 3 / 2 },
  { phrase: '4:3', aspect: 4 / 3 },
  { phrase: '9:16', aspect: 9 / 16 },
  { phrase: 'phone wallpaper', aspect: 9 / 16 },
  { phrase: 'phone background', aspect: 9 / 16 },
  { phrase: 'mobile wallpaper', aspect: 9 / 16 },
  { phrase: 'lock screen', aspect: 9 / 16 },
  { phrase: 'story format', aspect: 9 / 16 },
  { phrase: 'instagram story', aspect: 9 / 16 },
  { phrase: 'phone screen', aspect: 9 / 16 },
  { phrase: 'tiktok', aspect: 9 / 16 },
  { phrase: '2:3', aspect: 2 / 3 },
  { phrase: '3:4', aspect: 3 / 4 },
  { phrase: '4:5', aspect: 4 / 5 },
];

/**
 * Style words that tie a picture to one medium ("film grain" is a photograph, "brushstrokes" a painting,
 * "octane render" a 3D render). A term carrying one is added to a prompt only when the request is in that
 * medium, so a watercolor never gains "bokeh" and a photo never gains "oil painting".
 */
export const STYLE_WORD_FAMILY: Readonly<Record<string, 'photo' | 'anime' | 'painting' | 'drawing' | '3d'>> = {
  photo: 'photo', photograph: 'photo', photography: 'photo', photographic: 'photo', raw: 'photo', dslr: 'photo',
  camera: 'photo', film: 'photo', grain: 'photo', analog: 'photo', analogue: 'photo', kodak: 'photo', portra: 'photo',
  fujifilm: 'photo', fuji: 'photo', canon: 'photo', nikon: 'photo', sony: 'photo', leica: 'photo', hasselblad: 'photo',
  eos: 'photo', mm: 'photo', lens: 'photo', lenses: 'photo', bokeh: 'photo', aperture: 'photo', exposure: 'photo',
  iso: 'photo', shutter: 'photo', telephoto: 'photo', photoshoot: 'photo', dof: 'photo', photorealistic: 'photo',
  photorealism: 'photo', realistic: 'photo', realism: 'photo', hyperrealistic: 'photo', hyperrealism: 'photo',
  ultrarealistic: 'photo', lifelike: 'photo', skin: 'photo', pores: 'photo', editorial: 'photo',
  anime: 'anime', manga: 'anime', cel: 'anime', pixiv: 'anime',
  painting: 'painting', oil: 'painting', watercolor: 'painting', watercolour: 'painting', canvas: 'painting',
  brushstrokes: 'painting', brush: 'painting', strokes: 'painting', impasto: 'painting', gouache: 'painting',
  acrylic: 'painting',
  sketch: 'drawing', drawing: 'drawing', pencil: 'drawing', charcoal: 'drawing', ink: 'drawing', lineart: 'drawing',
  pastel: 'drawing',
  render: '3d', rendered: '3d', rendering: '3d', octane: '3d', unreal: '3d', redshift: '3d', vray: '3d',
  blender: '3d', cinema4d: '3d', c4d: '3d', zbrush: '3d', '3d': '3d', cgi: '3d', pbr: '3d',
};
