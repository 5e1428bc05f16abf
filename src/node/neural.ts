/**
 * Node side of the neural engine: reads a pack from disk, prepares the decoder (adding the
 * hidden-state output by the ONNX graph edit when the export lacks it, written once to a cache
 * directory) and opens a transformers.js session on onnxruntime-node.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import { exposeHiddenState } from '../core/onnx/hidden.ts';
import { applyHubUrl, createHubFetch, explainHubFailure, type HubFailure } from '../core/engines/neural/hub.ts';
import {
  onnxFileForDtype,
  PackManifestError,
  type PackDtype,
  type PackManifest,
} from '../core/engines/neural/manifest.ts';
import { loadPack, type LoadedPack, type PackFiles } from '../core/engines/neural/pack.ts';
import { TransformersLlmSession, type LlmDtype } from '../core/engines/neural/transformers-session.ts';
import type { TransformersVisionSession } from '../core/engines/neural/transformers-vision-session.ts';
import { openVisionSession } from './neural-vision.ts';

export function packFilesFromDirectory(dir: string): PackFiles {
  return {
    location: dir,
    readText: (p) => readFile(path.join(dir, p), 'utf8'),
    readBytes: async (p) => new Uint8Array(await readFile(path.join(dir, p))),
  };
}

/**
 * A directory transformers.js can load in which onnx/<file for dtype> exposes `last_hidden_state`:
 * the model directory itself when it already does, else a cached copy whose other files are links.
 */
export function prepareModelDirectory(
  modelDir: string,
  dtype: PackDtype,
  hiddenOutput: string | null,
  cacheRoot = path.join(os.tmpdir(), 'chatgen-neural'),
): string {
  const onnxName = onnxFileForDtype(dtype);
  const source = path.join(modelDir, 'onnx', onnxName);
  if (!existsSync(source))
    throw new PackManifestError(modelDir, [`the pack lists dtype ${dtype} but onnx/${onnxName} is missing`]);
  if (hiddenOutput !== null) return modelDir;
  const stat = statSync(source);
  const key = createHash('sha256')
    .update(`${path.resolve(source)}|${stat.size}|${stat.mtimeMs}`)
    .digest('hex')
    .slice(0, 16);
  const target = path.join(cacheRoot, key);
  const edited = path.join(target, 'onnx', onnxName);
  if (existsSync(edited)) return target;
  mkdirSync(path.join(target, 'onnx'), { recursive: true });
  for (const entry of readdirSync(modelDir)) {
    if (entry !== 'onnx' && !existsSync(path.join(target, entry)))
      symlinkSync(path.resolve(modelDir, entry), path.join(target, entry));
  }
  const bytes = readFileSync(source);
  writeFileSync(edited, exposeHiddenState(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).bytes);
  return target;
}

export interface NodePack extends LoadedPack {
  session: TransformersLlmSession | TransformersVisionSession;
  dtype: PackDtype;
}

export interface NodePackOptions {
  dtype?: PackDtype;
  /** Where `base_model.hub_id` downloads from (default: the public hub; the CLIs pass CHATGEN_HUB_URL). */
  hubUrl?: string;
  /** Where downloaded hub files are kept (transformers.js `env.cacheDir`); default: its own cache. */
  cacheDir?: string;
}

/** fp16 variants need a GPU with f16 support; onnxruntime-node runs the others on the CPU. */
const cpuDtype = (dtypes: readonly PackDtype[]) => dtypes.find((d) => d !== 'fp16' && d !== 'q4f16') ?? dtypes[0]!;

/** Loads a pack directory (manifest.json, head file if any, base model) for the neural engine in Node. */
export async function loadNodePack(packDir: string, options: NodePackOptions = {}): Promise<NodePack> {
  const pack = await loadPack(packFilesFromDirectory(packDir));
  const { manifest } = pack;
  const dtype = options.dtype ?? cpuDtype(manifest.dtypes);
  if (!manifest.dtypes.includes(dtype))
    throw new PackManifestError(packDir, [`dtype ${dtype} is not in the pack (it has ${manifest.dtypes.join(', ')})`]);
  if (!('hub_id' in manifest.base_model)) {
    const session =
      manifest.architecture === 'vision-language'
        ? await openVisionSession(packDir, manifest, dtype)
        : await openSession(packDir, manifest, dtype, pack.head !== null);
    return { ...pack, session, dtype };
  }
  // A hub model: downloads go through a fetch that records what the hub said, so that a 401 or 404
  // becomes a sentence instead of transformers.js's "Could not locate file".
  const hubUrl = applyHubUrl(env, options.hubUrl);
  if (options.cacheDir) env.cacheDir = options.cacheDir;
  let failure: HubFailure | null = null;
  const previousFetch = env.fetch;
  env.fetch = createHubFetch({ fetch: (input, init) => fetch(input, init), onFailure: (f) => void (failure ??= f) });
  try {
    const session =
      manifest.architecture === 'vision-language'
        ? await openVisionSession(packDir, manifest, dtype)
        : await openSession(packDir, manifest, dtype, pack.head !== null);
    return { ...pack, session, dtype };
  } catch (err) {
    if (failure) throw new Error(explainHubFailure(failure, hubUrl), { cause: err });
    throw err;
  } finally {
    env.fetch = previousFetch;
  }
}

async function openSession(
  packDir: string,
  manifest: PackManifest,
  dtype: PackDtype,
  needsHidden: boolean,
): Promise<TransformersLlmSession> {
  const hiddenOutput = manifest.hidden_state_output ?? 'last_hidden_state';
  if ('hub_id' in manifest.base_model) {
    // Without a head (hybrid planning) h is not needed: stage 1 only generates text.
    if (manifest.hidden_state_output === null && needsHidden) {
      throw new PackManifestError(packDir, [
        'a hub model without a hidden-state output needs a local copy (base_model.path) for the graph edit in Node, or a manifest without "head" (hybrid planning)',
      ]);
    }
    return TransformersLlmSession.load({
      model: manifest.base_model.hub_id,
      device: 'cpu',
      dtype: dtype as LlmDtype,
      hiddenOutput,
      chatTemplate: manifest.chat_template,
    });
  }
  const modelDir = path.resolve(packDir, manifest.base_model.path);
  const prepared = prepareModelDirectory(modelDir, dtype, manifest.hidden_state_output);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(prepared) + path.sep;
  return TransformersLlmSession.load({
    model: path.basename(prepared),
    device: 'cpu',
    dtype: dtype as LlmDtype,
    hiddenOutput,
    chatTemplate: manifest.chat_template,
  });
}
