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

/** Which endpoints may take a job (e.g. those with the plan's model installed); undefined: any. */
export type EndpointFilter = (client: EndpointClient) => boolean;

interface Waiter {
  eligible: EndpointFilter | undefined;
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

  /** The member to use now, or null when every eligible one is at its limit. */
  private pick(eligible?: EndpointFilter): PoolMemberState | null {
    const n = this.members.length;
    let best: PoolMemberState | null = null;
    let bestIndex = -1;
    for (let k = 0; k < n; k++) {
      const i = (this.nextIndex + k) % n;
      const m = this.members[i]!;
      if (m.busy >= this.limit(m) || (eligible && !eligible(m.client))) continue;
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

  private acquire(signal?: AbortSignal, eligible?: EndpointFilter): Promise<PoolMemberState> {
    if (eligible && !this.members.some((m) => eligible(m.client))) {
      return Promise.reject(new EndpointError('config', 'No configured endpoint can take this job.'));
    }
    // A free member goes to this request unless an earlier waiter could use it (arrival order).
    const candidate = this.pick(eligible);
    const free = candidate && !this.waiting.some((w) => !w.eligible || w.eligible(candidate.client)) ? candidate : null;
    if (free) {
      free.busy++;
      return Promise.resolve(free);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        eligible,
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

  /** Frees a slot and hands free members to waiters in arrival order (a waiter no free member suits keeps its place). */
  private release(m: PoolMemberState): void {
    m.busy--;
    for (let i = 0; i < this.waiting.length; ) {
      const waiter = this.waiting[i]!;
      const next = this.pick(waiter.eligible);
      if (!next) {
        i++;
        continue;
      }
      next.busy++;
      this.waiting.splice(i, 1);
      waiter.grant(next);
    }
  }

  /** Runs a task on the member dispatch chooses (among the eligible ones, when a filter is given). */
  async run<T>(
    task: (client: EndpointClient) => Promise<T>,
    signal?: AbortSignal,
    eligible?: EndpointFilter,
  ): Promise<T> {
    const member = await this.acquire(signal, eligible);
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

  generate(plan: GenerationPlan, options: GenerateOptions = {}, eligible?: EndpointFilter): Promise<GenerationOutput> {
    return this.run((client) => client.generate(plan, options), options.signal, eligible);
  }

  async cancel(): Promise<void> {
    for (const w of this.waiting.splice(0)) w.reject(new EndpointError('cancelled', 'Cancelled.'));
    await Promise.all(this.members.map((m) => m.client.cancel()));
  }
}
