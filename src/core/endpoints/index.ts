/** Creates the client for an endpoint configuration. */
import { A1111Client } from './a1111.ts';
import { ComfyUIClient } from './comfyui.ts';
import { HFInferenceClient, OpenAIImagesClient } from './openai.ts';
import type { ClientDeps, EndpointClient, EndpointConfig } from './types.ts';

export function createEndpointClient(config: EndpointConfig, deps: ClientDeps = {}): EndpointClient {
  switch (config.kind) {
    case 'a1111':
      return new A1111Client(config, deps);
    case 'comfyui':
      return new ComfyUIClient(config, deps);
    case 'openai':
      return new OpenAIImagesClient(config, deps);
    case 'hf-inference':
      return new HFInferenceClient(config, deps);
  }
}
