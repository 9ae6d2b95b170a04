/**
 * How big a ShardedRedisCluster is: the number of shards (primaries, each with its replicas) and
 * the memory limit and CPU request of every Redis pod, from a managed-service preset (an Azure
 * Managed Redis SKU, seed 004; a Scaleway node class and node count, seed 003) or given outright.
 *
 * The factories have no construct scope, so they never throw: what is wrong with their arguments
 * is recorded and reported by the topology that takes the sizing, with its construct path (see
 * {@link ClusterSizing._check}).
 */
import { asOptions, checkOptions } from '../storage/checks';
import { CPU_ALLOWED, isCpu } from '../core/rules';
import { DEFAULT_MAXMEMORY_RATIO, isQuantity, parseQuantity } from '../core/quantity';
import { isUnresolved, PropsValidator } from '../core/validation';

// --- Azure Managed Redis (seed 004) ---------------------------------------------------------

/** An Azure Managed Redis tier as AZURE_SKUS names it. */
export type AzureSkuTier = 'flash-optimized' | 'memory-optimized' | 'balanced' | 'compute-optimized';

/** One SKU of Azure Managed Redis: its size and how many vCPUs and primary shards it runs. */
export interface AzureSku {
  readonly tier: AzureSkuTier;
  /** The SKU's size in GB, as the table gives it. */
  readonly sizeGb: number;
  /** vCPUs of the whole instance. */
  readonly vCpus: number;
  /** Primary shards (Redis server processes holding slots). */
  readonly primaryShards: number;
}

/**
 * Seed 004 (004_24e718d9c4828813.txt, "Azure Managed Redis (preview) Architecture", ms.date
 * 11/15/2024), section "Sharding configuration": the table with header row "Tiers | Flash
 * Optimized | Memory Optimized | Balanced | Compute Optimized" and "Size (GB) | vCPUs/primary
 * shards" in every tier column. Transcribed cell by cell, in the seed's row and column order; `-`
 * is a size the tier does not offer. The seed warns that "the number of shards and vCPUs used on
 * each SKU can change over time". Memory Optimized 960 reads 128/192 in the seed (more shards
 * than vCPUs, unlike every other row); kept as written.
 */
const AZURE_SHARDING_TABLE: ReadonlyArray<readonly [sizeGb: number, flash: string, memory: string, balanced: string, compute: string]> = [
  // Size (GB), Flash Optimized, Memory Optimized, Balanced, Compute Optimized
  [0.5, '-', '-', '2/2', '-'],
  [1, '-', '-', '2/2', '-'],
  [3, '-', '-', '2/2', '4/2'],
  [6, '-', '-', '2/2', '4/2'],
  [12, '-', '2/2', '4/2', '8/6'],
  [24, '-', '4/2', '8/6', '16/12'],
  [60, '-', '8/6', '16/12', '32/24'],
  [120, '-', '16/12', '32/24', '64/48'],
  [180, '-', '24/24', '48/48', '96/96'],
  [240, '8/6', '32/24', '64/48', '128/96'],
  [360, '-', '48/48', '96/96', '192/192'],
  [480, '16/12', '64/48', '128/96', '256/192'],
  [720, '24/24', '96/96', '192/192', '384/384'],
  [960, '32/24', '128/192', '256/192', '-'],
  [1440, '48/48', '192/192', '-', '-'],
  [1920, '64/48', '256/192', '-', '-'],
  [4500, '144/96', '-', '-', '-'],
];

const AZURE_TABLE_TIERS: readonly AzureSkuTier[] = ['flash-optimized', 'memory-optimized', 'balanced', 'compute-optimized'];

/**
 * Every SKU of seed 004's sharding table (see AZURE_SHARDING_TABLE above for the citation), one
 * entry per filled cell, grouped by tier (Flash, Memory, Balanced, Compute Optimized) and by size.
 * Flash Optimized rows are data only: {@link ClusterSizing.azure} does not offer them (their RAM
 * is 20% of the size, the rest on NVMe; another construct sizes them).
 */
export const AZURE_SKUS: readonly AzureSku[] = Object.freeze(AZURE_TABLE_TIERS.flatMap((tier, column) =>
  AZURE_SHARDING_TABLE.filter((row) => row[column + 1] !== '-').map((row) => {
    const [vCpus, primaryShards] = String(row[column + 1]).split('/').map(Number);
    return Object.freeze({ tier, sizeGb: row[0], vCpus, primaryShards });
  })));

/** An Azure Managed Redis tier whose SKUs keep the whole dataset in RAM (seed 004). */
export class AzureTier {
  public static readonly MEMORY_OPTIMIZED = new AzureTier('memory-optimized', 'Memory Optimized');
  public static readonly BALANCED = new AzureTier('balanced', 'Balanced');
  public static readonly COMPUTE_OPTIMIZED = new AzureTier('compute-optimized', 'Compute Optimized');

  /** Makes the class nominal: an object literal with the same fields is not an AzureTier. */
  private readonly optionClass = 'AzureTier';

  private constructor(
    /** The tier in AZURE_SKUS. */
    public readonly value: AzureSkuTier,
    /** Azure's name for it, as the seed writes it. */
    public readonly title: string,
  ) {}

  /** The tier's SKUs, smallest first. */
  public get skus(): readonly AzureSku[] {
    return AZURE_SKUS.filter((s) => s.tier === this.value);
  }

  public toString(): string {
    return `${this.optionClass}(${this.value})`;
  }
}

/** The factories that make an AzureTier, for validation messages. */
export const AZURE_TIER_FACTORIES = 'AzureTier.MEMORY_OPTIMIZED, BALANCED, COMPUTE_OPTIMIZED';

// --- Scaleway Managed Database for Redis (seed 003) -----------------------------------------

/** A Scaleway node class and the node types in it. */
export interface ScalewayNodeClassRow {
  readonly className: 'development' | 'production';
  /** Scaleway's name for it. */
  readonly title: string;
  /** What the seed says it is for. */
  readonly intendedFor: string;
  /** Node types of the class (see SCALEWAY_NODE_CLASSES for where the names come from). */
  readonly nodeTypes: readonly string[];
}

/**
 * Seed 003 (003_8a0acc476d564403.txt, Scaleway "Managed Database for Redis™" FAQ), question "What
 * are the differences between Redis™ node classes?": "Two node classes are available for Managed
 * Database for Redis: Development and Production. Development nodes are suitable for Proofs of
 * Concept (PoCs) and tests. Production-class nodes are ideal for more demanding workloads."
 *
 * The seed then says "Refer to the image below to see which node types belong to which node
 * class": the image is not in the seed's text, so the seed gives NO node types and NO vCPU or RAM
 * figures. The node type names below are the image's alt text in a later version of the same page
 * (scaleway/docs-content, pages/managed-databases-for-redis/faq.mdx: "Development: RED1-S,
 * RED1-XS, RED1-2XS, RED1-micro and Production: RED1-XL, RED1-L, RED1-M"), in that order, with
 * `RED1-micro` spelled `RED1-MICRO` as the API takes it. vCPUs and RAM per node type are published
 * by neither; {@link ScalewayNodeClass} takes them from the user (Scaleway's node-types list in the
 * console or the API, `GET /redis/v1/zones/{zone}/node-types`).
 */
export const SCALEWAY_NODE_CLASSES: readonly ScalewayNodeClassRow[] = Object.freeze([
  Object.freeze({ className: 'development' as const, title: 'Development', intendedFor: 'Proofs of Concept (PoCs) and tests', nodeTypes: Object.freeze(['RED1-S', 'RED1-XS', 'RED1-2XS', 'RED1-MICRO']) }),
  Object.freeze({ className: 'production' as const, title: 'Production', intendedFor: 'more demanding workloads', nodeTypes: Object.freeze(['RED1-XL', 'RED1-L', 'RED1-M']) }),
]);

/** A Scaleway node type and its size, as Scaleway's node-types list gives them. */
export interface ScalewayNodeType {
  /** Node type name, e.g. `RED1-M`: one of its class's node types in SCALEWAY_NODE_CLASSES (any case). */
  readonly name: string;
  /** vCPUs of one node (a number above zero). */
  readonly vCpus: number;
  /** RAM of one node in GB (GiB: 1 GB = 1024Mi here), at least 0.0625 so that each of its two Redis processes gets 32Mi. */
  readonly ramGb: number;
}

const SCALEWAY_NODE_TYPE_ALLOWED = 'a node type { name, vCpus, ramGb } from Scaleway\'s node-types list';
const SCALEWAY_VCPUS_ALLOWED = 'a number of vCPUs above zero (from Scaleway\'s node-types list)';
const SCALEWAY_RAM_ALLOWED = 'a number of GB of RAM of at least 0.0625 (from Scaleway\'s node-types list; each of the node\'s two Redis processes needs 32Mi)';

/**
 * A Scaleway node class (Development or Production, seed 003) and a node type in it. Seed 003
 * names the classes but not the size of their node types (see SCALEWAY_NODE_CLASSES), so the
 * factories take the node type's vCPUs and RAM as Scaleway lists them.
 *
 * ```ts
 * ScalewayNodeClass.production({ name: 'RED1-M', vCpus, ramGb }) // figures from Scaleway's node-types list
 * ```
 */
export class ScalewayNodeClass {
  /** A Development-class node ("suitable for Proofs of Concept (PoCs) and tests"). */
  public static development(nodeType: ScalewayNodeType): ScalewayNodeClass {
    return ScalewayNodeClass.of(SCALEWAY_NODE_CLASSES[0], nodeType);
  }

  /** A Production-class node ("ideal for more demanding workloads"). */
  public static production(nodeType: ScalewayNodeType): ScalewayNodeClass {
    return ScalewayNodeClass.of(SCALEWAY_NODE_CLASSES[1], nodeType);
  }

  private static of(row: ScalewayNodeClassRow, nodeType: ScalewayNodeType): ScalewayNodeClass {
    const o = asOptions<ScalewayNodeType>(nodeType);
    const name = typeof o.name === 'string' ? o.name.toUpperCase() : o.name;
    const typeAllowed = `one of the ${row.title} node types: ${row.nodeTypes.join(', ')} (Scaleway's node classes, seed 003)`;
    return new ScalewayNodeClass(row.className, row.title, name as string, o.vCpus as number, o.ramGb as number, (v, prop) => {
      if (!checkOptions(v, prop, nodeType, true, `ScalewayNodeClass.${row.className}(${SCALEWAY_NODE_TYPE_ALLOWED})`)) return;
      if (v.required(`${prop}.name`, o.name, 'string', typeAllowed)) v.check(`${prop}.name`, name as string, (n) => row.nodeTypes.includes(n), typeAllowed);
      if (v.required(`${prop}.vCpus`, o.vCpus, 'number', SCALEWAY_VCPUS_ALLOWED) && v.known(`${prop}.vCpus`, o.vCpus, 'the CPU request is derived from it when the plan is written')) {
        v.check(`${prop}.vCpus`, o.vCpus, (n) => Number.isFinite(n) && n > 0, SCALEWAY_VCPUS_ALLOWED);
      }
      if (v.required(`${prop}.ramGb`, o.ramGb, 'number', SCALEWAY_RAM_ALLOWED) && v.known(`${prop}.ramGb`, o.ramGb, 'the memory limit is derived from it when the plan is written')) {
        v.check(`${prop}.ramGb`, o.ramGb, (n) => Number.isFinite(n) && n * 1024 / 2 >= MIN_MEMORY_LIMIT_MI, SCALEWAY_RAM_ALLOWED);
      }
    });
  }

  /** Makes the class nominal: an object literal with the same fields is not a ScalewayNodeClass. */
  private readonly optionClass = 'ScalewayNodeClass';

  private constructor(
    /** `development` or `production`. */
    public readonly className: 'development' | 'production',
    /** Scaleway's name for the class. */
    public readonly title: string,
    /** The node type, upper case (e.g. `RED1-M`). */
    public readonly nodeType: string,
    /** vCPUs of one node. */
    public readonly vCpus: number,
    /** RAM of one node in GB. */
    public readonly ramGb: number,
    private readonly checks: SizingChecks,
  ) {}

  public toString(): string {
    return `${this.optionClass}.${this.className}(${this.nodeType})`;
  }

  /**
   * Records every problem with the factory's arguments on `v`, under `prop`.
   * @internal
   */
  public _validate(v: PropsValidator, prop: string): void {
    this.checks(v, prop);
  }
}

/** The factories that make a ScalewayNodeClass, for validation messages. */
export const SCALEWAY_NODE_CLASS_FACTORIES = 'ScalewayNodeClass.development({ name, vCpus, ramGb }), ScalewayNodeClass.production({ name, vCpus, ramGb })';

// --- ClusterSizing ----------------------------------------------------------------------------

/** The smallest memory limit of a shard's pod: Redis with a few keys, replication buffers and its own overhead. */
export const MIN_MEMORY_LIMIT_MI = 32;
/** The smallest CPU request of a shard's pod, in millicores. */
export const MIN_CPU_REQUEST_MILLI = 100;
/** A Redis Cluster has 16384 hash slots; every primary holds at least one. */
export const MAX_SHARDS = 16384;
/** Fewest shards with which a Redis Cluster can fail over (a majority of primaries votes). */
export const MIN_FAILOVER_SHARDS = 3;

/** The checks of one factory call, run later with the consuming topology's validator and prop name. */
type SizingChecks = (v: PropsValidator, prop: string) => void;

/** The factories that make a ClusterSizing, for validation messages. */
export const CLUSTER_SIZING_FACTORIES = 'ClusterSizing.azure(tier, sizeGb), ClusterSizing.scaleway(nodeClass, nodes) or ClusterSizing.explicit({ shards, memoryLimit, cpuRequest })';

export const SHARDS_ALLOWED = `an integer from ${MIN_FAILOVER_SHARDS} (the fewest primaries that can vote a replica into a failed primary's place; with 1 or 2 a failed primary is never replaced) to ${MAX_SHARDS} (one hash slot each)`;
export const SHARD_MEMORY_LIMIT_ALLOWED = `a memory quantity of at least ${MIN_MEMORY_LIMIT_MI}Mi, such as 2Gi (the memory limit of every Redis pod; maxmemory is derived from it)`;
export const SCALEWAY_NODES_ALLOWED = 'an integer from 3 to 6 (Scaleway\'s cluster mode, seed 003)';

/** Options of {@link ClusterSizing.explicit}. */
export interface ExplicitClusterSizingOptions {
  /** Number of shards (primaries): 1, or 3 and more. */
  readonly shards: number;
  /** Memory limit of every Redis pod, primary or replica (e.g. `2Gi`); at least 32Mi. */
  readonly memoryLimit: string;
  /** CPU request of every Redis pod, primary or replica (e.g. `500m`). */
  readonly cpuRequest: string;
}

/**
 * The number of shards and the resources of every Redis pod of a ShardedRedisCluster.
 *
 * Every pod of a shard, primary or replica, gets the same memory limit and CPU request: any
 * replica may be promoted to primary, and must then carry the primary's data and load. A replica
 * holds a full copy of its primary's data, so its memory is the same in any case.
 *
 * The topology derives each pod's `maxmemory` as 0.8 x its memory limit (the default maxmemory
 * ratio, requirement 59 of seed 004: about 20% reserved), so the presets size the limit as the
 * dataset a shard must hold / 0.8.
 *
 * Where a preset gives fewer than 3 shards (Azure SKUs with 2 primary shards), the cluster gets 3:
 * a Redis Cluster fails a primary over only when a majority of primaries agree, which 2 primaries
 * cannot form after losing one. The SKU's memory and vCPUs are divided among the 3 shards, so the
 * totals stay the SKU's; the derivation annotation says so.
 */
export class ClusterSizing {
  /**
   * An Azure Managed Redis SKU (seed 004): one of the tier's sizes in AZURE_SKUS, e.g.
   * `ClusterSizing.azure(AzureTier.BALANCED, 12)`. Flash Optimized SKUs are not offered here.
   *
   * - shards: the SKU's primary shards; 2 is raised to 3 (see the class description).
   * - memory: the SKU's size is taken as the dataset the user gets, in GiB (1 GB = 1024Mi). Each
   *   shard's maxmemory is size / shards, rounded up to a whole Mi; the memory limit of its pods is
   *   that / 0.8, rounded up to a whole Mi, so the topology's maxmemory (0.8 x limit) is at least
   *   the shard's share. The 20% on top is Azure's reserve (seed 004, "Reserved memory").
   * - CPU: the SKU's vCPUs / shards, in millicores rounded down to 10m, at least 100m, for every
   *   pod. Azure's vCPUs serve its primaries and replicas alike; here each replica requests as
   *   much as its primary, so with one replica per shard the cluster requests twice the SKU's vCPUs.
   */
  public static azure(tier: AzureTier, sizeGb: number): ClusterSizing {
    const isTier = tier instanceof AzureTier;
    const sku = isTier ? tier.skus.find((s) => s.sizeGb === sizeGb) : undefined;
    const checks: SizingChecks = (v, prop) => {
      if (!isTier) {
        v.fail(`${prop}.tier`, tier, `one of ${AZURE_TIER_FACTORIES}`);
        return;
      }
      const allowed = `one of the ${tier.title} sizes in GB: ${tier.skus.map((s) => s.sizeGb).join(', ')} (Azure Managed Redis SKUs, seed 004)`;
      if (!v.known(`${prop}.sizeGb`, sizeGb, 'the shard count and each shard\'s resources are looked up from it when the plan is written')) return;
      if (sku === undefined) v.fail(`${prop}.sizeGb`, sizeGb, allowed);
    };
    if (sku === undefined) return ClusterSizing.invalid(`Azure Managed Redis ${isTier ? tier.title : String(tier)} ${String(sizeGb)} GB: not a SKU (seed 004)`, checks);

    const shards = Math.max(sku.primaryShards, MIN_FAILOVER_SHARDS);
    const maxmemoryMi = Math.ceil(exact(sku.sizeGb * 1024 / shards));
    const limitMi = Math.ceil(exact(maxmemoryMi / DEFAULT_MAXMEMORY_RATIO));
    const cpu = millicores(sku.vCpus, shards);
    const raised = shards !== sku.primaryShards ? ` (the SKU's ${sku.primaryShards} primary shards raised to ${MIN_FAILOVER_SHARDS}, the fewest that can fail over)` : '';
    const memRounded = maxmemoryMi !== exact(sku.sizeGb * 1024 / shards) ? ' (rounded up)' : '';
    const limitRounded = limitMi !== exact(maxmemoryMi / DEFAULT_MAXMEMORY_RATIO) ? ' (rounded up)' : '';
    return new ClusterSizing(
      shards, `${limitMi}Mi`, `${cpu.milli}m`,
      `Azure Managed Redis ${tier.title} ${sku.sizeGb} GB: ${sku.vCpus} vCPUs / ${sku.primaryShards} primary shards (seed 004)`,
      `${sku.sizeGb} GB / ${shards} shards${raised} = ${maxmemoryMi}Mi maxmemory per shard${memRounded}; `
      + `limit ${maxmemoryMi}Mi / ${DEFAULT_MAXMEMORY_RATIO} = ${limitMi}Mi${limitRounded}; ${sku.vCpus} vCPU / ${shards} = ${cpu.milli}m${cpu.note}`,
      checks);
  }

  /**
   * A Scaleway Managed Database for Redis cluster (seed 003): `nodes` nodes (3 to 6) of a node
   * class. Each Scaleway node runs a primary and a replica of another node's primary, so:
   *
   * - shards = nodes, with one replica each;
   * - each pod's memory limit is half the node's RAM (its two Redis processes share it), rounded
   *   down to a whole Mi (1 GB = 1024Mi); the topology's maxmemory is 0.8 x that;
   * - each pod's CPU request is half the node's vCPUs, in millicores rounded down to 10m, at least
   *   100m. Primary and replica get the same, as on Scaleway's symmetric nodes.
   */
  public static scaleway(nodeClass: ScalewayNodeClass, nodes: number): ClusterSizing {
    const isClass = nodeClass instanceof ScalewayNodeClass;
    const checks: SizingChecks = (v, prop) => {
      if (!isClass) v.fail(`${prop}.nodeClass`, nodeClass, `one of ${SCALEWAY_NODE_CLASS_FACTORIES}`);
      else nodeClass._validate(v, `${prop}.nodeClass`);
      if (v.required(`${prop}.nodes`, nodes, 'number', SCALEWAY_NODES_ALLOWED) && v.known(`${prop}.nodes`, nodes, 'the shard count is derived from it when the plan is written')) {
        v.integer(`${prop}.nodes`, nodes, 3, 6);
      }
    };
    const nodesOk = Number.isInteger(nodes) && nodes >= 3 && nodes <= 6;
    const node = isClass ? nodeClass : undefined;
    const typeOk = node !== undefined && typeof node.nodeType === 'string' && SCALEWAY_NODE_CLASSES.some((c) => c.className === node.className && c.nodeTypes.includes(node.nodeType));
    const ramOk = node !== undefined && typeof node.ramGb === 'number' && Number.isFinite(node.ramGb) && node.ramGb * 1024 / 2 >= MIN_MEMORY_LIMIT_MI;
    const cpuOk = node !== undefined && typeof node.vCpus === 'number' && Number.isFinite(node.vCpus) && node.vCpus > 0;
    if (!nodesOk || !typeOk || !ramOk || !cpuOk) {
      return ClusterSizing.invalid(`Scaleway Managed Database for Redis ${node ? `${node.title} node ${String(node.nodeType)}` : String(nodeClass)} x ${String(nodes)} nodes: invalid (seed 003)`, checks);
    }
    const limitMi = Math.floor(exact(node.ramGb * 1024 / 2));
    const cpu = millicores(node.vCpus, 2);
    const maxmemoryMi = Math.floor(exact(limitMi * DEFAULT_MAXMEMORY_RATIO));
    return new ClusterSizing(
      nodes, `${limitMi}Mi`, `${cpu.milli}m`,
      `Scaleway Managed Database for Redis ${node.title} node ${node.nodeType} (${node.vCpus} vCPUs, ${node.ramGb} GB RAM, figures given by the user) x ${nodes} nodes (seed 003)`,
      `${nodes} nodes = ${nodes} shards (each node: a primary and a replica of another node's primary); `
      + `${node.ramGb} GB RAM / 2 Redis processes = ${limitMi}Mi limit per pod (maxmemory ${DEFAULT_MAXMEMORY_RATIO} x limit = ${maxmemoryMi}Mi); `
      + `${node.vCpus} vCPU / 2 = ${cpu.milli}m${cpu.note}`,
      checks);
  }

  /**
   * Shards and per-pod resources given outright. `shards` is 1 or from 3; `memoryLimit` a memory
   * quantity of at least 32Mi; `cpuRequest` a CPU quantity. Every pod, primary or replica, gets
   * them.
   */
  public static explicit(options: ExplicitClusterSizingOptions): ClusterSizing {
    const o = asOptions<ExplicitClusterSizingOptions>(options);
    const checks: SizingChecks = (v, prop) => {
      if (!checkOptions(v, prop, options, true, 'ClusterSizing.explicit({ shards, memoryLimit, cpuRequest })')) return;
      if (v.required(`${prop}.shards`, o.shards, 'number', SHARDS_ALLOWED) && v.known(`${prop}.shards`, o.shards, 'each shard\'s StatefulSet, DNS names and hash slots are derived from it')) {
        v.check(`${prop}.shards`, o.shards, isShardCount, SHARDS_ALLOWED);
      }
      if (v.required(`${prop}.memoryLimit`, o.memoryLimit, 'string', SHARD_MEMORY_LIMIT_ALLOWED) && v.known(`${prop}.memoryLimit`, o.memoryLimit, 'maxmemory in redis.conf is derived from it when the plan is written')) {
        v.check(`${prop}.memoryLimit`, o.memoryLimit, isShardMemoryLimit, SHARD_MEMORY_LIMIT_ALLOWED);
      }
      if (v.required(`${prop}.cpuRequest`, o.cpuRequest, 'string', CPU_ALLOWED)) v.check(`${prop}.cpuRequest`, o.cpuRequest, isCpu, CPU_ALLOWED);
    };
    const { shards, memoryLimit, cpuRequest } = o;
    const memoryOk = typeof memoryLimit === 'string' && !isUnresolved(memoryLimit) && isShardMemoryLimit(memoryLimit);
    const maxmemory = memoryOk ? `; maxmemory ${DEFAULT_MAXMEMORY_RATIO} x limit = ${Math.floor(exact(parseQuantity(memoryLimit) * DEFAULT_MAXMEMORY_RATIO / 2 ** 20))}Mi` : '';
    return new ClusterSizing(
      typeof shards === 'number' ? shards : NaN, typeof memoryLimit === 'string' ? memoryLimit : '', typeof cpuRequest === 'string' ? cpuRequest : '',
      `explicit: ${String(shards)} shards, ${String(memoryLimit)} memory limit and ${String(cpuRequest)} CPU request per pod`,
      `as given: ${String(shards)} shards; limit ${String(memoryLimit)} per pod${maxmemory}; ${String(cpuRequest)} CPU per pod`,
      checks);
  }

  /**
   * The check a topology makes on its sizing prop: records "required" when it is missing, "one of
   * the factories" when it is not a ClusterSizing (a look-alike object or a string from
   * JavaScript), and otherwise every problem with the factory's arguments. Returns whether `value`
   * is a ClusterSizing; its numbers are meaningful only when nothing was recorded under `prop`
   * (`!v.failed(prop)`): a sizing made from invalid arguments has `shards` NaN.
   *
   * ```ts
   * if (ClusterSizing._check(v, 'sizing', props.sizing) && !v.failed('sizing')) { ...props.sizing.shards... }
   * ```
   * @internal
   */
  public static _check(v: PropsValidator, prop: string, value: unknown): value is ClusterSizing {
    if (value === undefined || value === null) {
      v.required(prop, value, 'object', CLUSTER_SIZING_FACTORIES);
      return false;
    }
    if (!v.option(prop, value as ClusterSizing, ClusterSizing, CLUSTER_SIZING_FACTORIES)) return false;
    (value as ClusterSizing)._validate(v, prop);
    return true;
  }

  /** A sizing whose arguments were wrong: it reports them when validated, and has no usable numbers. */
  private static invalid(source: string, checks: SizingChecks): ClusterSizing {
    return new ClusterSizing(NaN, '', '', source, 'invalid arguments: nothing derived', checks);
  }

  /** Makes the class nominal: an object literal with the same fields is not a ClusterSizing. */
  private readonly optionClass = 'ClusterSizing';

  private constructor(
    /** Number of shards (primaries, each with its replicas). */
    public readonly shards: number,
    /** Memory limit of every Redis pod, a Kubernetes quantity such as `5120Mi`. */
    public readonly memoryLimit: string,
    /** CPU request of every Redis pod, such as `1330m`. */
    public readonly cpuRequest: string,
    /** Which preset made it, e.g. `Azure Managed Redis Balanced 12 GB: 4 vCPUs / 2 primary shards (seed 004)`. */
    public readonly source: string,
    /** The arithmetic from the preset to the numbers, on one line. */
    public readonly derivation: string,
    /** What is wrong with the factory's arguments, recorded when a topology validates its props. */
    private readonly checks: SizingChecks,
  ) {}

  /**
   * Annotations for the cluster's objects, so that the plan shows which preset produced which
   * numbers: `redis-topologies.io/sizing` (the source) and `redis-topologies.io/sizing-derivation`
   * (the arithmetic).
   */
  public annotations(): Record<string, string> {
    return { 'redis-topologies.io/sizing': this.source, 'redis-topologies.io/sizing-derivation': this.derivation };
  }

  public toString(): string {
    return `${this.optionClass}(${this.source})`;
  }

  /**
   * Records every problem with the factory's arguments on `v`, under `prop` (e.g. `sizing.sizeGb`).
   * Prefer {@link ClusterSizing._check}, which also refuses a value that is not a ClusterSizing.
   * @internal
   */
  public _validate(v: PropsValidator, prop: string): void {
    this.checks(v, prop);
  }
}

/** 1, or an integer from 3 to 16384. */
function isShardCount(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_FAILOVER_SHARDS && n <= MAX_SHARDS;
}

/** A memory quantity of at least 32Mi. */
function isShardMemoryLimit(value: string): boolean {
  return isQuantity(value) && parseQuantity(value) >= MIN_MEMORY_LIMIT_MI * 2 ** 20;
}

/** `vCpus / share` in millicores, rounded down to 10m and at least 100m, with a note when either applied. */
function millicores(vCpus: number, share: number): { milli: number; note: string } {
  const exactMilli = exact(vCpus * 1000 / share);
  const down = Math.floor(exactMilli / 10) * 10;
  if (down < MIN_CPU_REQUEST_MILLI) return { milli: MIN_CPU_REQUEST_MILLI, note: ` (raised to the ${MIN_CPU_REQUEST_MILLI}m minimum)` };
  return { milli: down, note: down !== exactMilli ? ' (rounded down to 10m)' : '' };
}

/** Removes floating-point noise (4096 / 0.8 = 5119.999...) before rounding. */
function exact(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
