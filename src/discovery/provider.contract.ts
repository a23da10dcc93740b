/**
 * The contract every discovery provider passes, run by each provider's test file against its own
 * real (or faithfully faked) upstream: the first result arrives; changes arrive; a failing upstream
 * reports errors without ever emitting a shorter list, and recovery is seen; stop() cancels every
 * timer and connection and silences the provider even though the upstream keeps changing.
 * Time is a ManualClock advanced on every poll, so backoff and refresh schedules run without sleeps.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Endpoint } from '../snapshot/index.ts';
import { eventually } from '../../test/support/eventually.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import type { Provider, ProviderContext } from './provider.ts';
import { silentLog } from './provider.ts';

export interface Address {
  readonly address: string;
  readonly port: number;
}

/** One upstream (a fake Consul, a fake API server, dnsmasq...) the provider under test watches. */
export interface ContractWorld {
  /** Makes the upstream serve exactly these addresses. */
  publish(addresses: readonly Address[]): Promise<void>;
  /** A provider watching the world. */
  provider(ctx: ProviderContext): Provider;
  /** Makes the upstream fail (stopped, unreachable); absent when the provider cannot fail. */
  fail?(): Promise<void>;
  recover?(): Promise<void>;
  /** True once no connection from a stopped provider is open at the upstream. */
  idle?(): boolean;
  close(): Promise<void>;
}

export interface ContractOptions {
  readonly name: string;
  readonly world: (initial: readonly Address[]) => Promise<ContractWorld>;
  /** Whether the world can change after start (static endpoints cannot). */
  readonly updates: boolean;
  /** Clock advance per poll: enough to reach the next refresh or retry. */
  readonly tickMs?: number;
  readonly timeoutMs?: number;
}

type Event = { kind: 'endpoints'; list: readonly Endpoint[] } | { kind: 'error'; err: Error };

class Recorder {
  readonly events: Event[] = [];
  readonly listener = {
    endpoints: (list: readonly Endpoint[]) => void this.events.push({ kind: 'endpoints', list }),
    error: (err: Error) => void this.events.push({ kind: 'error', err }),
  };
  lastList(): string[] | undefined {
    const last = this.events.findLast((e) => e.kind === 'endpoints');
    return last?.kind === 'endpoints' ? addresses(last.list) : undefined;
  }
  get errors(): number {
    return this.events.filter((e) => e.kind === 'error').length;
  }
}

const addresses = (list: readonly Address[]) => list.map((e) => `${e.address}:${e.port}`).sort();

const A = { address: '10.1.0.1', port: 8080 };
const B = { address: '10.1.0.2', port: 8080 };
const C = { address: '10.1.0.3', port: 8080 };

export function providerContract(opts: ContractOptions): void {
  const tick = opts.tickMs ?? 1000;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const setup = async (initial: readonly Address[]) => {
    const clock = new ManualClock();
    const ctx: ProviderContext = { clock, random: () => 0.5, log: silentLog };
    const world = await opts.world(initial);
    const rec = new Recorder();
    const provider = world.provider(ctx);
    provider.start(rec.listener);
    const until = (fn: () => boolean, message: string) =>
      eventually(() => {
        clock.advance(tick);
        return fn();
      }, { timeoutMs, message });
    const sees = (expected: readonly Address[]) =>
      until(() => JSON.stringify(rec.lastList()) === JSON.stringify(addresses(expected)), `expected ${addresses(expected).join(', ')}`);
    return { clock, ctx, world, rec, provider, until, sees };
  };

  describe(`${opts.name} provider contract`, () => {
    test('reports the first result', async () => {
      const t = await setup([A, B]);
      try {
        await t.sees([A, B]);
      } finally {
        await t.provider.stop();
        await t.world.close();
      }
    });

    test('reports changes', { skip: !opts.updates && 'this provider never changes after start' }, async () => {
      const t = await setup([A]);
      try {
        await t.sees([A]);
        await t.world.publish([A, B, C]);
        await t.sees([A, B, C]);
        await t.world.publish([C]);
        await t.sees([C]);
      } finally {
        await t.provider.stop();
        await t.world.close();
      }
    });

    test('a failure reports errors, keeps the list, and recovery is seen', { skip: !opts.updates && 'this provider cannot fail' }, async (ctx) => {
      const t = await setup([A, B]);
      if (!t.world.fail || !t.world.recover) return ctx.skip('the world cannot fail');
      try {
        await t.sees([A, B]);
        const before = t.rec.events.length;
        await t.world.fail();
        await t.until(() => t.rec.errors >= 2, 'errors reported while the upstream is down');
        const during = t.rec.events.slice(before).filter((e) => e.kind === 'endpoints');
        for (const e of during) assert.deepEqual(addresses(e.kind === 'endpoints' ? e.list : []), addresses([A, B]), 'no other list while failing');
        await t.world.recover();
        await t.world.publish([B, C]);
        await t.sees([B, C]);
      } finally {
        await t.provider.stop();
        await t.world.close();
      }
    });

    test('stop cancels timers and connections and silences the provider', async () => {
      const t = await setup([A]);
      try {
        await t.sees([A]);
        await t.provider.stop();
        const count = t.rec.events.length;
        assert.equal(t.clock.pending, 0, 'no timer left behind');
        if (t.world.idle) await eventually(() => t.world.idle!(), { message: 'connections closed after stop' });
        if (opts.updates) {
          await t.world.publish([A, B]);
          // A fresh provider seeing the change bounds the time the stopped one had to (wrongly) see it.
          const fresh = new Recorder();
          const other = t.world.provider(t.ctx);
          other.start(fresh.listener);
          await t.until(() => JSON.stringify(fresh.lastList()) === JSON.stringify(addresses([A, B])), 'a fresh provider sees the change');
          await other.stop();
        }
        t.clock.advance(600_000);
        assert.equal(t.rec.events.length, count, 'no callback after stop');
      } finally {
        await t.world.close();
      }
    });
  });
}
