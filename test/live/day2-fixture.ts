/**
 * The Day-2 fixture shared by the rolling-change live test and `npm run bench:rollout`: a
 * SentinelRedis with a HaproxyPortal, an application namespace given only what the plan publishes
 * there, the two Services its clients use (the sentinels', the portal's), and underLoad(), which
 * runs a change while real clients write and measures what they saw.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HaproxyPortal, HaproxyPortalProps } from '../../lib';
import { App, applicationEnv, EmulatedService, longestGap, publishedData, startApp } from './applications';
import { sleep } from './harness/proc';
import { Plan } from './plan-pods';
import { bootWithPortals, LivePortals, rollPortals } from './portal-topology';
import { LiveSentinelRedis, PodReplacement } from './sentinel-topology';

export const APP_NAMESPACE = 'shop';
const PASSWORD_SECRET = 'cache-redis-password';

/** What the clients saw during one change. */
export interface Measured {
  /** Longest time between two acknowledged writes during the change, per client. */
  outageMs: { sentinels: number; portal: number };
  /** Writes acknowledged during the whole run, per client. */
  acked: { sentinels: number; portal: number };
  /** Acknowledged writes missing from the primary afterwards, per client. */
  lost: { sentinels: number; portal: number };
  /** 100 ms samples in which two members answered as primary. */
  twoPrimarySamples: number;
  samples: number;
  /** ioredis clients the application replaced after they ended for good (see the README's ioredis notes). */
  ioredisRenewals: number;
  /** The primary's ordinal afterwards. */
  primary: number;
  /** How long the change took. */
  changeMs: number;
}

export class Day2Fixture {
  public static async boot(opts: { prefix: string; subnetIndex: number; password: string; portal?: Partial<HaproxyPortalProps> }): Promise<Day2Fixture> {
    // Read at every synthesis: replanPortal changes them.
    const portalProps: Partial<HaproxyPortalProps> = { ...opts.portal };
    const { t, p } = await bootWithPortals({
      prefix: opts.prefix,
      password: opts.password,
      subnetIndex: opts.subnetIndex,
      props: { elastisysConfigMap: { namespaces: [APP_NAMESPACE] }, passwordSecret: { name: PASSWORD_SECRET, namespaces: [APP_NAMESPACE] } },
      extend: (stack, redis) => {
        new HaproxyPortal(stack, 'Portal', { ...portalProps, backend: redis, connection: { namespaces: [APP_NAMESPACE] } });
      },
      what: 'first boot',
    });
    const f = new Day2Fixture(t, p, fs.mkdtempSync(path.join(os.tmpdir(), `${opts.prefix}-day2-`)), portalProps);
    f.appNs = (await t.net.addPod('shop-app', [])).ns;
    const sentinelService = f.env('cache-redis-config').REDIS_SENTINEL_HOST;
    f.sentinelService = await EmulatedService.create(t.net, 'svc-sentinel', [sentinelService, `${sentinelService}.svc.cluster.local`], t.sentinelPort,
      Array.from({ length: t.sentinelCount }, (_, i) => `${t.host('sentinel', i)}:${t.sentinelPort}`));
    f.portalService = await EmulatedService.create(t.net, 'svc-portal', [f.env('cache-portal-connection').REDIS_HOST], f.p.port, f.p.pods.map((pod) => `${f.p.podHost(pod)}:${f.p.port}`));
    fs.writeFileSync(path.join(f.scratch, 'ca.crt'), publishedData(t.plan, 'kubernetes_config_map_v1', APP_NAMESPACE, 'cache-portal-connection', { password: opts.password, ca: f.p.certs.ca })['ca.crt']);
    return f;
  }

  public appNs = '';
  public sentinelService?: EmulatedService;
  public portalService?: EmulatedService;

  private constructor(public readonly t: LiveSentinelRedis, public readonly p: LivePortals, private readonly scratch: string, private readonly portalProps: Partial<HaproxyPortalProps>) {}

  /** A pull request that changes only the portal's props; returns the previous plan (see LiveSentinelRedis.replan). */
  public async replanPortal(changes: Partial<HaproxyPortalProps>): Promise<Plan> {
    Object.assign(this.portalProps, changes);
    return this.t.replan({});
  }

  /** An application container's environment from the published ConfigMap `configMap`. */
  public env(configMap: string): Record<string, string> {
    return applicationEnv(this.t.plan, APP_NAMESPACE, configMap, PASSWORD_SECRET, { password: this.t.password, ca: this.p.certs.ca });
  }

  /**
   * The StatefulSet controller's roll of the sentinels (see LiveSentinelRedis.rollStatefulSet), the
   * sentinels' Service following it as the endpoint controller and kube-proxy would: a sentinel
   * being deleted gets no new connection, its replacement gets them once ready.
   */
  public async rollSentinels(before: Plan, opts: { handover?: boolean } = {}): Promise<PodReplacement[]> {
    const r = await this.t.rollStatefulSet('sentinel', before, {
      ...opts,
      endpoints: async (ready) => this.sentinelService?.setEndpoints(ready.map((i) => `${this.t.host('sentinel', i)}:${this.t.sentinelPort}`)),
    });
    await this.syncSentinelEndpoints();
    return r;
  }

  /** The sentinels' Service follows the sentinel count (new ordinals become endpoints). */
  public async syncSentinelEndpoints(): Promise<void> {
    await this.sentinelService?.setEndpoints(Array.from({ length: this.t.sentinelCount }, (_, i) => `${this.t.host('sentinel', i)}:${this.t.sentinelPort}`));
  }

  /**
   * Runs `change` while two applications write (ioredis through the sentinels' Service, node-redis
   * through the portal's, 5 ms apart); then waits until the topology is healthy and counts the
   * acknowledged writes missing from the primary.
   */
  public async underLoad(label: string, change: () => Promise<void>): Promise<Measured> {
    const t = this.t;
    const loop = { maxWrites: 200_000, maxSeconds: 240, intervalMs: 5, retryMs: 50 };
    const caFile = path.join(this.scratch, 'ca.crt');
    const apps: Array<[keyof Measured['outageMs'], string, App]> = [
      ['sentinels', `${label}-ioredis`, startApp(this.appNs, 'ioredis', this.env('cache-redis-config'), caFile, { keyPrefix: `${label}-ioredis`, ...loop })],
      ['portal', `${label}-node-redis`, startApp(this.appNs, 'node-redis', this.env('cache-portal-connection'), caFile, { keyPrefix: `${label}-node-redis`, ...loop })],
    ];
    let sampling = true;
    let samples = 0;
    let twoPrimarySamples = 0;
    const sampler = (async () => {
      for (let n = 0; sampling && n < 3000; n++) {
        if ((await t.roles()).filter((r) => r === 'master').length > 1) twoPrimarySamples += 1;
        samples += 1;
        await sleep(100);
      }
    })();
    const acked = new Map<string, number[]>();
    let from = 0;
    let to = 0;
    try {
      for (const [, , app] of apps) await app.waitForAcks(50, 30_000);
      from = Date.now();
      await change();
      to = Date.now();
      for (const [, , app] of apps) await app.waitForAcks(app.acks.length + 50, 30_000);
    } finally {
      for (const [, prefix, app] of apps) acked.set(prefix, await app.stop());
      sampling = false;
      await sampler;
    }
    const primary = await t.waitForHealthy(`${label}: healthy after the change`, 90_000);
    const lost = async (prefix: string) => (await t.missingKeys(primary, prefix, acked.get(prefix)!)).length;
    const outage = (app: App) => longestGap(app.acks, from, to);
    return {
      outageMs: { sentinels: outage(apps[0][2]), portal: outage(apps[1][2]) },
      acked: { sentinels: acked.get(apps[0][1])!.length, portal: acked.get(apps[1][1])!.length },
      lost: { sentinels: await lost(apps[0][1]), portal: await lost(apps[1][1]) },
      twoPrimarySamples,
      samples,
      ioredisRenewals: apps[0][2].renewals.length,
      primary,
      changeMs: to - from,
    };
  }

  /**
   * The Deployment controller's rolling update of the portals to the current plan (see
   * rollPortals), the Service's endpoints following through the emulated portal Service. Nothing
   * happens when the portals' pod template did not change. `drain: false` skips the preStop hooks.
   */
  public async rollPortals(before: Plan, opts: { drain?: boolean } = {}): Promise<PodReplacement[]> {
    const deployment = this.p.deployment;
    if (JSON.stringify(before.deployment(deployment).spec.template) === JSON.stringify(this.t.plan.deployment(deployment).spec.template)) return [];
    const r = await rollPortals(this.p, this.t.plan, {
      preStop: opts.drain !== false,
      endpoints: (pods) => this.portalService!.setEndpoints(pods.map((pod) => `${this.p.podHost(pod)}:${this.p.port}`)),
    });
    return r.replaced.map((x) => ({ pod: x.pod, preStopMs: x.preStopMs, preStopOutput: x.preStopOutput, stopMs: x.exitMs, readyMs: x.readyMs }));
  }

  public async destroy(): Promise<void> {
    await this.sentinelService?.stop().catch(() => undefined);
    await this.portalService?.stop().catch(() => undefined);
    await this.p.destroy().catch(() => undefined);
    await this.t.destroy();
    fs.rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** One line per replaced pod, and the handover log of each primary that handed over. */
export function describeRoll(replaced: PodReplacement[]): string {
  const handovers = replaced.filter((r) => /handed the primary role/.test(r.preStopOutput)).map((r) => `\n  ${r.pod} preStop:\n    ${r.preStopOutput.split('\n').join('\n    ')}`);
  return replaced.map((r) => `${r.pod}: preStop ${r.preStopMs} ms, stop ${r.stopMs} ms, ready ${r.readyMs} ms`).join('; ') + handovers.join('');
}

/** The figures of one change, on one line. */
export function describeMeasured(label: string, m: Measured): string {
  return `${label}: longest gap between acknowledged writes: ioredis via the sentinels ${m.outageMs.sentinels} ms, node-redis via the portal ${m.outageMs.portal} ms; `
    + `${m.acked.sentinels} + ${m.acked.portal} writes acknowledged, ${m.lost.sentinels + m.lost.portal} lost; two primaries in ${m.twoPrimarySamples} of ${m.samples} samples; change took ${m.changeMs} ms`
    + (m.ioredisRenewals ? `; ioredis client replaced after it ended for good: ${m.ioredisRenewals}` : '');
}
