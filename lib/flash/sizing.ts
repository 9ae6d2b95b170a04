/**
 * Sizing of a flash tier: a capacity and a RAM share, from Azure Managed Redis's Flash Optimized
 * SKUs (seed 004) or given explicitly. The factories never throw: FlashTierRedis checks them with
 * its construct path.
 */
import { isCpu, isMemory, CPU_ALLOWED } from '../core/rules';
import { isQuantity, parseQuantity } from '../core/quantity';
import { PropsValidator } from '../core/validation';
import { asOptions, checkOptions } from '../storage/checks';
import { CAPACITY_GIB_RANGE, DEFAULT_RAM_RATIO, flashCapacityProblem, RAM_RATIO_RANGE } from './capacity';

/**
 * Azure Managed Redis Flash Optimized: capacity (GB) → vCPUs and primary shards (seed 004, the SKU
 * table, Flash-Opt rows).
 */
export const AZURE_FLASH_OPTIMIZED: Readonly<Record<number, { readonly vcpus: number; readonly shards: number }>> = Object.freeze({
  240: { vcpus: 8, shards: 6 },
  480: { vcpus: 16, shards: 12 },
  720: { vcpus: 24, shards: 24 },
  960: { vcpus: 32, shards: 24 },
  1440: { vcpus: 48, shards: 48 },
  1920: { vcpus: 64, shards: 48 },
  4500: { vcpus: 144, shards: 96 },
});

export interface ExplicitFlashSizing {
  /** Total capacity: the dataset the volume holds, a quantity such as '500Gi' (at least 8Gi). */
  readonly capacity: string;
  /** Share of the capacity kept in RAM (RocksDB caches and memtables), 0.05 to 0.5. @default 0.2 */
  readonly ramRatio?: number;
  /** CPU request of each data member. @default '2' */
  readonly cpuRequest?: string;
  /** Kvrocks worker threads. @default 8 */
  readonly workers?: number;
}

/** How big a flash tier is. */
export class FlashSizing {
  /**
   * An Azure Flash Optimized SKU by its capacity in GB (240, 480, 720, 960, 1440, 1920 or 4500),
   * 20% in RAM. Azure's vCPUs cover a primary and its replica, so each data member requests half of
   * them (and runs as many Kvrocks workers, 4 to 64). Azure's shards are not reproduced: one Kvrocks
   * primary holds the whole capacity (there is no Kvrocks cluster without kvrocks-controller).
   */
  public static azure(capacityGb: number): FlashSizing {
    const row = AZURE_FLASH_OPTIMIZED[capacityGb];
    const perMember = row ? row.vcpus / 2 : 0;
    return new FlashSizing(
      `azure-flash-optimized-${capacityGb}`,
      capacityGb,
      DEFAULT_RAM_RATIO,
      String(perMember),
      Math.max(4, Math.min(64, perMember)),
      row ? `Azure Flash Optimized ${capacityGb} GB: ${row.vcpus} vCPUs over ${row.shards} shards -> ${perMember} CPUs per data member, one primary` : 'unknown',
      (v, prop) => {
        if (!Number.isInteger(capacityGb) || !row) {
          v.fail(`${prop}.capacityGb`, capacityGb, `one of the Flash Optimized capacities in GB: ${Object.keys(AZURE_FLASH_OPTIMIZED).join(', ')}`);
        }
      },
    );
  }

  /** A capacity and RAM share of your own. */
  public static explicit(options: ExplicitFlashSizing): FlashSizing {
    const o = asOptions<ExplicitFlashSizing>(options);
    const bytes = typeof o.capacity === 'string' && isQuantity(o.capacity) ? parseQuantity(o.capacity) : undefined;
    const gib = bytes !== undefined ? Math.ceil(bytes / 2 ** 30) : 0;
    const ratio = o.ramRatio ?? DEFAULT_RAM_RATIO;
    return new FlashSizing('explicit', gib, ratio, o.cpuRequest ?? '2', o.workers ?? 8, `explicit: ${o.capacity}, ${ratio} in RAM`, (v, prop) => {
      if (!checkOptions(v, prop, options, true, 'FlashSizing.explicit({ capacity, ramRatio?, cpuRequest?, workers? })')) return;
      const allowed = `a storage quantity from ${CAPACITY_GIB_RANGE.min}Gi to ${CAPACITY_GIB_RANGE.max / 1024}Ti, such as 500Gi (below ${CAPACITY_GIB_RANGE.min}Gi a RAM tier, SentinelRedis, is the simpler answer)`;
      if (v.requiredString(`${prop}.capacity`, o.capacity, isMemory, allowed) && v.known(`${prop}.capacity`, o.capacity, 'the caches, memtables, memory limit and max-db-size are derived from it')) {
        v.check(`${prop}.capacity`, o.capacity, () => gib >= CAPACITY_GIB_RANGE.min && gib <= CAPACITY_GIB_RANGE.max, allowed);
      }
      const ratioAllowed = `a number from ${RAM_RATIO_RANGE.min} to ${RAM_RATIO_RANGE.max}: below, the caches hold too little to matter; above, a RAM tier (SentinelRedis) costs less`;
      if (v.type(`${prop}.ramRatio`, o.ramRatio, 'number', ratioAllowed) && v.known(`${prop}.ramRatio`, o.ramRatio, 'the caches are derived from it')) {
        v.check(`${prop}.ramRatio`, o.ramRatio, (r) => r >= RAM_RATIO_RANGE.min && r <= RAM_RATIO_RANGE.max, ratioAllowed);
      }
      v.string(`${prop}.cpuRequest`, o.cpuRequest, isCpu, CPU_ALLOWED);
      v.integer(`${prop}.workers`, o.workers, 1, 256);
    });
  }

  private readonly optionClass = 'FlashSizing';

  private constructor(
    /** The preset's name, or `explicit`. */
    public readonly preset: string,
    /** Capacity in GiB. */
    public readonly capacityGiB: number,
    public readonly ramRatio: number,
    public readonly cpuRequest: string,
    public readonly workers: number,
    /** The preset's arithmetic, for the plan's annotations. */
    public readonly description: string,
    private readonly checks: (v: PropsValidator, prop: string) => void,
  ) {}

  /** @internal Records what is wrong under `prop`; then whether the capacity and share can make a tier. */
  public _validate(v: PropsValidator, prop: string): void {
    this.checks(v, prop);
    if (v.failed(prop)) return;
    const problem = flashCapacityProblem(this.capacityGiB, this.ramRatio);
    if (problem) v.fail(prop, String(this), problem);
  }

  public toString(): string {
    return `${this.optionClass}(${this.preset}: ${this.capacityGiB} GiB, ${this.ramRatio} in RAM)`;
  }
}

export const FLASH_SIZING_FACTORIES = 'FlashSizing.azure(capacityGb), FlashSizing.explicit({ capacity, ramRatio?, cpuRequest?, workers? })';
