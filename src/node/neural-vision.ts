/**
 * Node side of a vision-language pack: the base model (a LLaVA- or Idefics3-style directory or hub repo:
 * vision_encoder, embed_tokens and decoder_model_merged ONNX files, processor configs) opened on
 * onnxruntime-node. A pack with a head needs the decoder to export the hidden state itself: the graph
 * edit of text packs (src/core/onnx/hidden.ts) is written for single-file decoders. A hub pack without a
 * head (hybrid planning, e.g. the curated SmolVLM pack) only generates text and needs no h.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import {
  PackManifestError,
  onnxFileForDtype,
  type PackDtype,
  type PackManifest,
} from '../core/engines/neural/manifest.ts';
import type { LlmDtype } from '../core/engines/neural/transformers-session.ts';
import { TransformersVisionSession } from '../core/engines/neural/transformers-vision-session.ts';

const VISION_PACK_FILES = ['vision_encoder', 'embed_tokens', 'decoder_model_merged'];

export async function openVisionSession(
  packDir: string,
  manifest: PackManifest,
  dtype: PackDtype,
): Promise<TransformersVisionSession> {
  if (manifest.hidden_state_output === null && manifest.head !== null) {
    throw new PackManifestError(packDir, [
      'a vision-language pack with a head needs "hidden_state_output": its decoder must export h (the graph edit covers single-file text decoders only)',
    ]);
  }
  const hiddenOutput = manifest.hidden_state_output ?? 'last_hidden_state';
  if ('hub_id' in manifest.base_model) {
    env.allowRemoteModels = true;
    return TransformersVisionSession.load({
      model: manifest.base_model.hub_id,
      device: 'cpu',
      dtype: dtype as LlmDtype,
      hiddenOutput,
      chatTemplate: manifest.chat_template,
    });
  }
  const modelDir = path.resolve(packDir, manifest.base_model.path);
  const missing = VISION_PACK_FILES.map((name) => `onnx/${onnxFileForDtype(dtype, name)}`).filter(
    (file) => !existsSync(path.join(modelDir, file)),
  );
  if (missing.length > 0)
    throw new PackManifestError(packDir, [
      `the pack lists dtype ${dtype} but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing in ${modelDir}`,
    ]);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(modelDir) + path.sep;
  return TransformersVisionSession.load({
    model: path.basename(modelDir),
    device: 'cpu',
    dtype: dtype as LlmDtype,
    hiddenOutput,
    chatTemplate: manifest.chat_template,
  });
}
