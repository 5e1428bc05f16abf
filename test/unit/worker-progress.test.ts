/**
 * A worker call's progress and its answer travel on two MessagePorts, which a browser does not order: the
 * last progress can arrive after the answer (the Bench page then showed "6 / 6 runs" over its result).
 * Real comlink over a real MessageChannel; the host sends one progress after it has answered, which is
 * the order the page can see, and says when the page has taken it.
 */
import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { callWithProgress } from '../../src/runtime/workers.ts';

class LateProgressHost {
  private lateTaken: Promise<void> = Promise.resolve();

  async run(onProgress: (done: number) => void): Promise<string> {
    await onProgress(1);
    // Sent after the answer; awaiting the call means the page's callback has run (or dropped it).
    this.lateTaken = new Promise<void>((resolve) =>
      setTimeout(() => void Promise.resolve(onProgress(2)).then(() => resolve()), 0),
    );
    return 'answer';
  }

  /** Resolves once the page has taken the progress sent after the answer. */
  lateProgressTaken(): Promise<void> {
    return this.lateTaken;
  }
}

const channels: MessageChannel[] = [];
function connect(): Comlink.Remote<LateProgressHost> {
  const channel = new MessageChannel();
  channels.push(channel);
  Comlink.expose(new LateProgressHost(), channel.port1);
  return Comlink.wrap<LateProgressHost>(channel.port2);
}
afterEach(() => {
  for (const { port1, port2 } of channels.splice(0)) {
    port1.close();
    port2.close();
  }
});

describe('progress of a worker call', () => {
  it('reaches a plain comlink callback after the answer, so it can overwrite what the answer showed', async () => {
    const host = connect();
    const seen: number[] = [];
    const answer = await host.run(Comlink.proxy((done: number) => void seen.push(done)));
    await host.lateProgressTaken();
    expect(answer).toBe('answer');
    expect(seen).toEqual([1, 2]);
  });

  it('is dropped by callWithProgress once the call has answered, and delivered before that', async () => {
    const host = connect();
    const seen: number[] = [];
    const answer = await callWithProgress((relay) => host.run(relay((done: number) => void seen.push(done))));
    await host.lateProgressTaken();
    expect(answer).toBe('answer');
    expect(seen).toEqual([1]);
  });

  it('falls silent when the call fails too', async () => {
    const host = connect();
    const seen: number[] = [];
    const failing = callWithProgress(async (relay) => {
      await host.run(relay((done: number) => void seen.push(done)));
      throw new Error('the worker stopped');
    });
    await expect(failing).rejects.toThrow('the worker stopped');
    await host.lateProgressTaken();
    expect(seen).toEqual([1]);
  });
});
