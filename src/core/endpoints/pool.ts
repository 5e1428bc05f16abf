/**
 * Several endpoints behind one generate call (kiosks): round-robin or least-busy dispatch, each
 * endpoint held to its own concurrency; requests beyond every limit wait in arrival order.
 */
import type { GenerationPlan } from '../plan.ts';
import { EndpointError } from './errors.ts';
import type { EndpointClient, GenerateOptions, GenerationOutput } from './types.ts';

export type DispatchPolicy = 'round-robin' | 'least-busy';
export const DISPATCH_POLICIES: readonly DispatchPolicy[] = ['round-robin', 'least-busy'];

export interface PoolMemberState {
  client: EndpointClient;
  busy: number;
  completed: number;
  failed: number;
}

interface Waiter {
  grant: (member: PoolMemberState) => void;
  reject: (e: unknown) => void;
}

export class EndpointPool {
  readonly policy: DispatchPolicy;
  private readonly members: PoolMemberState[];
  private readonly waiting: Waiter[] = [];
  private nextIndex = 0;

  constructor(clients: readonly EndpointClient[], policy: DispatchPolicy = 'least-busy') {
    if (clients.length === 0) throw new EndpointError('config', 'An endpoint pool needs at least one endpoint.');
    this.members = clients.map((client) => ({ client, busy: 0, completed: 0, failed: 0 }));
    this.policy = policy;
  }

  get state(): readonly Readonly<PoolMemberState>[] {
    return this.members;
  }

  private limit(m: PoolMemberState): number {
    return Math.max(1, Math.floor(m.client.config.concurrency));
  }

  /** The member to use now, or null when every one is at its limit. */
  private pick(): PoolMemberState | null {
    const n = this.members.length;
    let best: PoolMemberState | null = null;
    let bestIndex = -1;
    for (let k = 0; k < n; k++) {
      const i = (this.nextIndex + k) % n;
      const m = this.members[i]!;
      if (m.busy >= this.limit(m)) continue;
      if (this.policy === 'round-robin') {
        best = m;
        bestIndex = i;
        break;
      }
      if (!best || m.busy / this.limit(m) < best.busy / this.limit(best)) {
        best = m;
        bestIndex = i;
      }
    }
    if (best) this.nextIndex = (bestIndex + 1) % n;
    return best;
  }

  private acquire(signal?: AbortSignal): Promise<PoolMemberState> {
    const free = this.waiting.length === 0 ? this.pick() : null;
    if (free) {
      free.busy++;
      return Promise.resolve(free);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: (m) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(m);
        },
        reject,
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new EndpointError('cancelled', 'Cancelled while waiting for a free endpoint.'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private release(m: PoolMemberState): void {
    m.busy--;
    while (this.waiting.length) {
      const next = this.pick();
      if (!next) return;
      next.busy++;
      this.waiting.shift()!.grant(next);
    }
  }

  /** Runs a task on the member dispatch chooses. */
  async run<T>(task: (client: EndpointClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const member = await this.acquire(signal);
    try {
      const value = await task(member.client);
      member.completed++;
      return value;
    } catch (e) {
      member.failed++;
      throw e;
    } finally {
      this.release(member);
    }
  }

  generate(plan: GenerationPlan, options: GenerateOptions = {}): Promise<GenerationOutput> {
    return this.run((client) => client.generate(plan, options), options.signal);
  }

  async cancel(): Promise<void> {
    for (const w of this.waiting.splice(0)) w.reject(new EndpointError('cancelled', 'Cancelled.'));
    await Promise.all(this.members.map((m) => m.client.cancel()));
  }
}
