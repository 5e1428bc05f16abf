/**
 * Scorer packs: a folder with `scorer.json` (this manifest) and the ONNX graphs and tokenizer it names.
 * Validation collects every problem with its JSON path (../validate.ts), so a hand-written manifest is fixed
 * in one pass.
 *
 * Example (CLIP):
 * { "format": "chatgen-scorer-pack", "version": 1, "id": "clip-vit-l-14", "kind": "clip", "name": "CLIP ViT-L/14",
 *   "meant_for": "openai/clip-vit-large-patch14",
 *   "files": { "vision_model": "vision_model.onnx", "text_model": "text_model.onnx", "tokenizer": "tokenizer.json" },
 *   "preprocessing": { "size": 224, "resize": "shortest-edge", "filter": "bicubic", "crop": "center",
 *                      "mean": [0.4815, 0.4578, 0.4082], "std": [0.2686, 0.2613, 0.2758] },
 *   "dims": { "embedding": 768 }, "tokenizer": { "max_length": 77, "pad_id": 49407 } }
 */

import { isPlainObject, Problems } from '../validate.ts';

export const SCORER_PACK_FORMAT = 'chatgen-scorer-pack';
export const SCORER_PACK_VERSION = 1;
export const SCORER_MANIFEST_FILE = 'scorer.json';

export const SCORER_KINDS = ['clip', 'hpsv2', 'imagereward', 'aesthetic', 'fid-features'] as const;
export type ScorerKind = (typeof SCORER_KINDS)[number];

/** The files each kind needs, by role. */
export const REQUIRED_FILES: Readonly<Record<ScorerKind, readonly string[]>> = {
  clip: ['vision_model', 'text_model', 'tokenizer'],
  hpsv2: ['vision_model', 'text_model', 'tokenizer'],
  imagereward: ['image_encoder', 'text_encoder', 'reward_head', 'tokenizer'],
  aesthetic: ['vision_model', 'head'],
  'fid-features': ['feature_model'],
};

const NEEDS_TOKENIZER: ReadonlySet<ScorerKind> = new Set(['clip', 'hpsv2', 'imagereward']);

export interface Preprocessing {
  /** Side of the square the image graph takes. */
  size: number;
  /** 'shortest-edge': short side to `size`, keep aspect (then crop); 'exact': size×size, aspect distorted. */
  resize: 'shortest-edge' | 'exact';
  filter: 'bicubic' | 'bilinear';
  crop: 'center' | 'none';
  mean: [number, number, number];
  std: [number, number, number];
}

export interface TokenizerSettings {
  /** Every prompt is truncated (keeping its end token) and padded to this length. */
  maxLength: number;
  padId: number;
  /** ImageReward replaces the first token ([CLS]) by BLIP's [ENC] token; absent for the others. */
  firstTokenId: number | null;
}

export interface ScoreSettings {
  /** cos(image, text) is multiplied by this (CLIP score and HPS v2 are reported ×100). */
  scale: number;
  /** Scores below this are raised to it (CLIP score clamps at 0); null for none. */
  clampMin: number | null;
}

export interface ScorerManifest {
  id: string;
  kind: ScorerKind;
  name: string;
  /** The public checkpoint this pack's graphs are (or stand in for). */
  meantFor: string;
  /** Relative file name by role. */
  files: Record<string, string>;
  preprocessing: Preprocessing;
  /** Output width of the embedding/feature graph. */
  dim: number;
  tokenizer: TokenizerSettings | null;
  score: ScoreSettings | null;
  /** ImageReward's (raw - mean) / std normalisation. */
  reward: { mean: number; std: number } | null;
}

export class ScorerManifestError extends Error {
  override name = 'ScorerManifestError';
  constructor(
    readonly problems: string[],
    where: string,
  ) {
    super(`invalid scorer pack manifest${where ? ` (${where})` : ''}:\n- ${problems.join('\n- ')}`);
  }
}

const DEFAULT_SCORE: Partial<Record<ScorerKind, ScoreSettings>> = {
  clip: { scale: 100, clampMin: 0 },
  hpsv2: { scale: 100, clampMin: null },
};

/** A file name inside the pack: relative, no parent steps, no absolute or drive paths, no backslashes. */
export function isSafePackPath(name: string): boolean {
  return (
    name.length > 0 &&
    !name.startsWith('/') &&
    !/^[a-zA-Z]:/.test(name) &&
    !name.includes('\\') &&
    !name.split('/').some((part) => part === '..' || part === '' || part === '.') &&
    !/^[a-z]+:\/\//i.test(name)
  );
}

export function parseScorerManifest(json: unknown, where = ''): ScorerManifest {
  const problems = new Problems();
  if (!isPlainObject(json)) throw new ScorerManifestError(['the manifest is not a JSON object'], where);
  if (json.format !== SCORER_PACK_FORMAT)
    problems.add('format', `expected "${SCORER_PACK_FORMAT}", got ${JSON.stringify(json.format)}`);
  if (json.version !== SCORER_PACK_VERSION)
    problems.add('version', `expected ${SCORER_PACK_VERSION}, got ${JSON.stringify(json.version)}`);
  const text = (key: string): string => {
    const value = json[key];
    if (typeof value !== 'string' || value.trim() === '') {
      problems.add(key, `expected a non-empty string, got ${JSON.stringify(value)}`);
      return '';
    }
    return value;
  };
  const id = text('id');
  if (id && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id))
    problems.add('id', `"${id}" may only use letters, digits, ".", "_" and "-"`);
  const name = text('name');
  const meantFor = text('meant_for');
  const kind = json.kind as ScorerKind;
  const kindKnown = SCORER_KINDS.includes(kind);
  if (!kindKnown) problems.add('kind', `expected one of ${SCORER_KINDS.join(', ')}, got ${JSON.stringify(json.kind)}`);

  const files: Record<string, string> = {};
  if (!isPlainObject(json.files)) problems.add('files', 'expected an object mapping roles to file names');
  else {
    for (const [role, file] of Object.entries(json.files)) {
      if (typeof file !== 'string' || !isSafePackPath(file)) {
        problems.add(`files.${role}`, `expected a relative file name inside the pack, got ${JSON.stringify(file)}`);
      } else files[role] = file;
    }
    if (kindKnown) {
      for (const role of REQUIRED_FILES[kind]) {
        if (!(role in json.files)) problems.add(`files.${role}`, `a ${kind} pack needs this file`);
      }
    }
  }

  const preprocessing = parsePreprocessing(json.preprocessing, problems);

  let dim = 0;
  const dims = json.dims;
  const dimKey = kind === 'fid-features' ? 'features' : 'embedding';
  if (!isPlainObject(dims) || !Number.isInteger(dims[dimKey]) || (dims[dimKey] as number) < 1) {
    problems.add(
      `dims.${dimKey}`,
      `expected a positive integer, got ${JSON.stringify(isPlainObject(dims) ? dims[dimKey] : dims)}`,
    );
  } else dim = dims[dimKey] as number;

  let tokenizer: TokenizerSettings | null = null;
  if (kindKnown && NEEDS_TOKENIZER.has(kind)) {
    const t = json.tokenizer;
    if (!isPlainObject(t)) problems.add('tokenizer', `a ${kind} pack needs { "max_length", "pad_id" }`);
    else {
      const maxLength = t.max_length;
      const padId = t.pad_id;
      const firstTokenId = t.first_token_id ?? null;
      if (!Number.isInteger(maxLength) || (maxLength as number) < 2)
        problems.add('tokenizer.max_length', `expected an integer >= 2, got ${JSON.stringify(maxLength)}`);
      if (!Number.isInteger(padId) || (padId as number) < 0)
        problems.add('tokenizer.pad_id', `expected a token id, got ${JSON.stringify(padId)}`);
      if (firstTokenId !== null && (!Number.isInteger(firstTokenId) || (firstTokenId as number) < 0)) {
        problems.add('tokenizer.first_token_id', `expected a token id, got ${JSON.stringify(firstTokenId)}`);
      }
      if (kind === 'imagereward' && firstTokenId === null)
        problems.add('tokenizer.first_token_id', "ImageReward needs BLIP's [ENC] token id");
      tokenizer = {
        maxLength: maxLength as number,
        padId: padId as number,
        firstTokenId: firstTokenId as number | null,
      };
    }
  }

  let score: ScoreSettings | null = kindKnown ? (DEFAULT_SCORE[kind] ?? null) : null;
  if (json.score !== undefined) {
    const s = json.score;
    if (
      !isPlainObject(s) ||
      typeof s.scale !== 'number' ||
      !(s.clamp_min === null || s.clamp_min === undefined || typeof s.clamp_min === 'number')
    ) {
      problems.add('score', 'expected { "scale": number, "clamp_min": number | null }');
    } else if (kind !== 'clip' && kind !== 'hpsv2')
      problems.add('score', `only clip and hpsv2 packs take score settings, not ${kind}`);
    else score = { scale: s.scale, clampMin: (s.clamp_min as number | null | undefined) ?? null };
  }

  let reward: ScorerManifest['reward'] = null;
  if (kind === 'imagereward') {
    const r = json.reward;
    if (!isPlainObject(r) || typeof r.mean !== 'number' || typeof r.std !== 'number' || !(r.std > 0)) {
      problems.add(
        'reward',
        'ImageReward needs { "mean": number, "std": number > 0 } (0.16717362830052426 and 1.0333394966054072 for THUDM/ImageReward)',
      );
    } else reward = { mean: r.mean, std: r.std };
  }

  if (problems.count > 0)
    throw new ScorerManifestError(
      problems.lines((p) => `${p.field}: ${p.message}`),
      where || (id ? `pack "${id}"` : ''),
    );
  return { id, kind, name, meantFor, files, preprocessing: preprocessing!, dim, tokenizer, score, reward };
}

function parsePreprocessing(value: unknown, problems: Problems): Preprocessing | null {
  if (!isPlainObject(value)) {
    problems.add('preprocessing', 'expected { size, resize, filter, crop, mean, std }');
    return null;
  }
  const before = problems.count;
  const { size, resize, filter, crop, mean, std } = value;
  if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > 4096)
    problems.add('preprocessing.size', `expected an integer in 1..4096, got ${JSON.stringify(size)}`);
  if (resize !== 'shortest-edge' && resize !== 'exact')
    problems.add('preprocessing.resize', `expected "shortest-edge" or "exact", got ${JSON.stringify(resize)}`);
  if (filter !== 'bicubic' && filter !== 'bilinear')
    problems.add('preprocessing.filter', `expected "bicubic" or "bilinear", got ${JSON.stringify(filter)}`);
  if (crop !== 'center' && crop !== 'none')
    problems.add('preprocessing.crop', `expected "center" or "none", got ${JSON.stringify(crop)}`);
  if (crop === 'none' && resize === 'shortest-edge')
    problems.add('preprocessing.crop', '"none" needs resize "exact" (a shortest-edge resize is not square)');
  for (const [key, triple, positive] of [
    ['mean', mean, false],
    ['std', std, true],
  ] as const) {
    if (
      !Array.isArray(triple) ||
      triple.length !== 3 ||
      !triple.every((v) => typeof v === 'number' && Number.isFinite(v) && (!positive || v > 0))
    ) {
      problems.add(
        `preprocessing.${key}`,
        `expected 3 ${positive ? 'positive ' : ''}numbers (R, G, B), got ${JSON.stringify(triple)}`,
      );
    }
  }
  if (problems.count > before) return null;
  const [m0, m1, m2] = mean as number[];
  const [s0, s1, s2] = std as number[];
  return {
    size: size as number,
    resize: resize as Preprocessing['resize'],
    filter: filter as Preprocessing['filter'],
    crop: crop as Preprocessing['crop'],
    mean: [m0!, m1!, m2!],
    std: [s0!, s1!, s2!],
  };
}
