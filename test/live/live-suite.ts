/**
 * What every live test file shares: whether network namespaces can be used here, the opt-in skip
 * (LIVE_ALLOW_SKIP=1) when they cannot, and test bodies that append the containers' logs to a
 * failure.
 */
import { cleanupAll, PodNetwork } from './harness/netns';
import { killAll, logsSummary } from './harness/pod';

export class LiveSuite {
  /** Why live tests cannot run here, or undefined. */
  public readonly unavailable = PodNetwork.unavailableReason();
  /** True when they cannot run and LIVE_ALLOW_SKIP=1 says that is acceptable. */
  public readonly skip = this.unavailable !== undefined && process.env.LIVE_ALLOW_SKIP === '1';

  constructor(private readonly label: string, private readonly logLines = 40) {}

  /** For beforeAll: false when skipping; throws when namespaces are missing and skipping was not allowed. */
  public ready(): boolean {
    if (this.unavailable === undefined) return true;
    if (this.skip) return false;
    throw new Error(`live tests need network namespaces: ${this.unavailable}. Set LIVE_ALLOW_SKIP=1 to skip them.`);
  }

  /** Runs a test body, appending the containers' logs to any failure. */
  public async run(body: () => Promise<void>): Promise<void> {
    if (this.skip) {
      console.log(`${this.label} skipped (LIVE_ALLOW_SKIP=1): ${this.unavailable}`);
      return;
    }
    try {
      await body();
    } catch (e) {
      (e as Error).message += `\n\ncontainer logs:\n${logsSummary(this.logLines)}`;
      throw e;
    }
  }

  /**
   * For afterAll: stops what `stoppers` name (topologies, portals), then every container and
   * network this process made; throws one error listing every failure.
   */
  public async cleanup(...stoppers: Array<{ destroy(): Promise<void> } | undefined>): Promise<void> {
    const errors: string[] = [];
    for (const s of stoppers) if (s) await s.destroy().catch((e: Error) => errors.push(e.message));
    await killAll().catch((e: Error) => errors.push(e.message));
    await cleanupAll().catch((e: Error) => errors.push(e.message));
    if (errors.length > 0) throw new Error(`cleanup: ${errors.join('\n')}`);
  }
}
