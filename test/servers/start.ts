/**
 * Starts one TEST server from the command line (for Playwright specs and manual trials):
 *   npx tsx test/servers/start.ts --kind a1111|comfyui|openai --port 7860 [--delay 300] [--no-cors]
 *     [--version 1.8|1.10] [--api-key KEY]
 * Prints "READY <url>" once listening; modes can then be flipped with POST <url>/__test__/mode.
 * ("openai" also serves the Hugging Face Inference-style route at <url>/hf/models/<name>.)
 */
import { A1111TestServer } from './a1111-test-server.ts';
import { ComfyTestServer } from './comfyui-test-server.ts';
import { OpenAITestServer } from './openai-test-server.ts';
import type { TestServerBase } from './test-server-common.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const kind = arg('kind');
const port = Number(arg('port') ?? 0);
const delayMs = Number(arg('delay') ?? 300);
const cors = !process.argv.includes('--no-cors');
let server: TestServerBase;
switch (kind) {
  case 'a1111':
    server = new A1111TestServer({ delayMs, cors, version: arg('version') === '1.8' ? '1.8' : '1.10' });
    break;
  case 'comfyui':
    server = new ComfyTestServer({ delayMs, cors });
    break;
  case 'openai':
  case 'hf-inference':
    server = new OpenAITestServer({ delayMs, cors, apiKey: arg('api-key') });
    break;
  default:
    console.error(
      'usage: tsx test/servers/start.ts --kind a1111|comfyui|openai [--port N] [--delay ms] [--no-cors] [--version 1.8|1.10] [--api-key KEY]',
    );
    process.exit(2);
}
const url = await server.listen(port);
console.log(`READY ${url}`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
