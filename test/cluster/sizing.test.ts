import { Construct } from 'constructs';
import {
  AZURE_SKUS, AZURE_TIER_FACTORIES, AzureTier, CLUSTER_SIZING_FACTORIES, ClusterSizing, SCALEWAY_NODE_CLASS_FACTORIES,
  SCALEWAY_NODE_CLASSES, ScalewayNodeClass,
} from '../../lib/cluster/sizing';
import { TerraformStack, TerraformVariable } from '../../lib/core/cdktf';
import { maxmemoryBytes, parseQuantity } from '../../lib/core/quantity';
import { PropsValidator, RedisTopologyValidationError } from '../../lib/core/validation';
import { testApp } from '../helpers';

const MI = 2 ** 20;
const TIERS = { 'memory-optimized': AzureTier.MEMORY_OPTIMIZED, 'balanced': AzureTier.BALANCED, 'compute-optimized': AzureTier.COMPUTE_OPTIMIZED } as const;

/** The violations a topology at test/Topo records for its `sizing` prop (empty when valid). */
function problems(value: unknown, scope: Construct = topo()): string[] {
  const v = new PropsValidator(scope);
  ClusterSizing._check(v, 'sizing', value);
  try {
    v.throwIfInvalid();
  } catch (e) {
    if (!(e instanceof RedisTopologyValidationError)) throw e;
    return e.message.split('\n');
  }
  return [];
}

function topo(): Construct {
  return new Construct(new TerraformStack(testApp(), 'test'), 'Topo');
}

/**
 * Node sizes for the Scaleway tests. NOT Scaleway's figures: seed 003 gives no vCPU or RAM per
 * node type (they are in an image), so these are inputs a user would copy from Scaleway's list.
 */
const RED1_M_AS_GIVEN = { name: 'RED1-M', vCpus: 4, ramGb: 8 };

describe('AZURE_SKUS: seed 004 "Sharding configuration" table', () => {
  test('every filled cell is one SKU, flash rows included', () => {
    const count = (tier: string) => AZURE_SKUS.filter((s) => s.tier === tier).length;
    expect([count('flash-optimized'), count('memory-optimized'), count('balanced'), count('compute-optimized')]).toEqual([7, 12, 14, 11]);
    expect(AZURE_SKUS).toHaveLength(44);
    expect(Object.isFrozen(AZURE_SKUS) && Object.isFrozen(AZURE_SKUS[0])).toBe(true);
  });

  test('rows checked by hand against the seed', () => {
    const sku = (tier: string, sizeGb: number) => AZURE_SKUS.find((s) => s.tier === tier && s.sizeGb === sizeGb);
    // "|    0.5      |       -      |    -          |          2/2         |           -          |"
    expect(sku('balanced', 0.5)).toEqual({ tier: 'balanced', sizeGb: 0.5, vCpus: 2, primaryShards: 2 });
    expect(sku('memory-optimized', 0.5)).toBeUndefined();
    // "|     12      |       -      |         2/2         |          4/2         |           8/6        |"
    expect(sku('memory-optimized', 12)).toEqual({ tier: 'memory-optimized', sizeGb: 12, vCpus: 2, primaryShards: 2 });
    expect(sku('balanced', 12)).toEqual({ tier: 'balanced', sizeGb: 12, vCpus: 4, primaryShards: 2 });
    expect(sku('compute-optimized', 12)).toEqual({ tier: 'compute-optimized', sizeGb: 12, vCpus: 8, primaryShards: 6 });
    // "|     960      |       32/24      |         128/192         |          256/192         |           -       |"
    expect(sku('flash-optimized', 960)).toEqual({ tier: 'flash-optimized', sizeGb: 960, vCpus: 32, primaryShards: 24 });
    expect(sku('memory-optimized', 960)).toEqual({ tier: 'memory-optimized', sizeGb: 960, vCpus: 128, primaryShards: 192 });
    expect(sku('compute-optimized', 960)).toBeUndefined();
    // "|     4500      |       144/96      |        -         |          -         |           -        |"
    expect(sku('flash-optimized', 4500)).toEqual({ tier: 'flash-optimized', sizeGb: 4500, vCpus: 144, primaryShards: 96 });
    // "|     720      |       24/24      |         96/96         |          192/192         |           384/384        |"
    expect(sku('compute-optimized', 720)).toEqual({ tier: 'compute-optimized', sizeGb: 720, vCpus: 384, primaryShards: 384 });
  });

  test('tiers list their sizes; flash has no AzureTier', () => {
    expect(AzureTier.BALANCED.skus.map((s) => s.sizeGb)).toEqual([0.5, 1, 3, 6, 12, 24, 60, 120, 180, 240, 360, 480, 720, 960]);
    expect(AzureTier.MEMORY_OPTIMIZED.skus.map((s) => s.sizeGb)).toEqual([12, 24, 60, 120, 180, 240, 360, 480, 720, 960, 1440, 1920]);
    expect(AzureTier.COMPUTE_OPTIMIZED.skus.map((s) => s.sizeGb)).toEqual([3, 6, 12, 24, 60, 120, 180, 240, 360, 480, 720]);
    expect((AzureTier as any).FLASH_OPTIMIZED).toBeUndefined();
    expect(String(AzureTier.BALANCED)).toBe('AzureTier(balanced)');
  });
});

describe('ClusterSizing.azure', () => {
  test('every Memory/Balanced/Compute SKU gives a valid sizing of positive integers', () => {
    const scope = topo();
    for (const sku of AZURE_SKUS.filter((s) => s.tier !== 'flash-optimized')) {
      const s = ClusterSizing.azure(TIERS[sku.tier as keyof typeof TIERS], sku.sizeGb);
      expect(problems(s, scope)).toEqual([]);
      expect(Number.isInteger(s.shards) && s.shards >= 3).toBe(true);
      expect(s.shards).toBe(Math.max(3, sku.primaryShards));
      const limitMi = Number(/^([0-9]+)Mi$/.exec(s.memoryLimit)![1]);
      const milli = Number(/^([0-9]+)m$/.exec(s.cpuRequest)![1]);
      expect(Number.isInteger(limitMi) && limitMi >= 32).toBe(true);
      expect(Number.isInteger(milli) && milli >= 100 && milli % 10 === 0).toBe(true);
      // the topology's maxmemory (0.8 x limit) holds the shard's share of the SKU's size ...
      expect(maxmemoryBytes(s.memoryLimit) * s.shards).toBeGreaterThanOrEqual(sku.sizeGb * 1024 * MI);
      // ... with less than a Mi per shard to spare from rounding
      expect(maxmemoryBytes(s.memoryLimit) * s.shards).toBeLessThan(sku.sizeGb * 1024 * MI + 2 * MI * s.shards);
      // CPU never exceeds the SKU's vCPUs over its primaries
      expect(milli * s.shards).toBeLessThanOrEqual(sku.vCpus * 1000);
    }
  });

  test('Balanced 12 GB (4/2): 2 primary shards raised to 3, with the arithmetic in the annotations', () => {
    const s = ClusterSizing.azure(AzureTier.BALANCED, 12);
    expect([s.shards, s.memoryLimit, s.cpuRequest]).toEqual([3, '5120Mi', '1330m']);
    expect(s.annotations()).toEqual({
      'redis-topologies.io/sizing': 'Azure Managed Redis Balanced 12 GB: 4 vCPUs / 2 primary shards (seed 004)',
      'redis-topologies.io/sizing-derivation': '12 GB / 3 shards (the SKU\'s 2 primary shards raised to 3, the fewest that can fail over) = 4096Mi maxmemory per shard; '
        + 'limit 4096Mi / 0.8 = 5120Mi; 4 vCPU / 3 = 1330m (rounded down to 10m)',
    });
    expect(String(s)).toBe('ClusterSizing(Azure Managed Redis Balanced 12 GB: 4 vCPUs / 2 primary shards (seed 004))');
  });

  test('hand-checked SKUs', () => {
    const s = (tier: AzureTier, gb: number) => { const x = ClusterSizing.azure(tier, gb); return [x.shards, x.memoryLimit, x.cpuRequest]; };
    // Compute 12 GB, 8/6: 12288Mi / 6 = 2048Mi, / 0.8 = 2560Mi; 8000m / 6 = 1333 -> 1330m
    expect(s(AzureTier.COMPUTE_OPTIMIZED, 12)).toEqual([6, '2560Mi', '1330m']);
    // Memory 960 GB, 128/192 (sic): 983040Mi / 192 = 5120Mi, / 0.8 = 6400Mi; 128000m / 192 = 666 -> 660m
    expect(s(AzureTier.MEMORY_OPTIMIZED, 960)).toEqual([192, '6400Mi', '660m']);
    // Compute 720 GB, 384/384: 737280Mi / 384 = 1920Mi, / 0.8 = 2400Mi; 1000m
    expect(s(AzureTier.COMPUTE_OPTIMIZED, 720)).toEqual([384, '2400Mi', '1000m']);
    // Balanced 0.5 GB, 2/2: 512Mi / 3 = 170.7 -> 171Mi, / 0.8 = 213.75 -> 214Mi; 2000m / 3 = 666 -> 660m
    expect(s(AzureTier.BALANCED, 0.5)).toEqual([3, '214Mi', '660m']);
    expect(ClusterSizing.azure(AzureTier.BALANCED, 0.5).derivation).toBe(
      '0.5 GB / 3 shards (the SKU\'s 2 primary shards raised to 3, the fewest that can fail over) = 171Mi maxmemory per shard (rounded up); '
      + 'limit 171Mi / 0.8 = 214Mi (rounded up); 2 vCPU / 3 = 660m (rounded down to 10m)');
    // Memory 60 GB, 8/6: no raise, no rounding
    expect(ClusterSizing.azure(AzureTier.MEMORY_OPTIMIZED, 60).derivation).toBe('60 GB / 6 shards = 10240Mi maxmemory per shard; limit 10240Mi / 0.8 = 12800Mi; 8 vCPU / 6 = 1330m (rounded down to 10m)');
  });

  test('a size the tier does not offer: no throw, one message listing the allowed sizes', () => {
    const s = ClusterSizing.azure(AzureTier.BALANCED, 10);
    expect(Number.isNaN(s.shards)).toBe(true);
    expect(problems(s)).toEqual([
      'test/Topo: invalid prop "sizing.sizeGb" = 10; allowed: one of the Balanced sizes in GB: 0.5, 1, 3, 6, 12, 24, 60, 120, 180, 240, 360, 480, 720, 960 (Azure Managed Redis SKUs, seed 004)',
    ]);
    // 4500 is a Flash Optimized size only
    expect(problems(ClusterSizing.azure(AzureTier.MEMORY_OPTIMIZED, 4500))).toEqual([
      'test/Topo: invalid prop "sizing.sizeGb" = 4500; allowed: one of the Memory Optimized sizes in GB: 12, 24, 60, 120, 180, 240, 360, 480, 720, 960, 1440, 1920 (Azure Managed Redis SKUs, seed 004)',
    ]);
    expect(problems(ClusterSizing.azure(AzureTier.BALANCED, '12' as any))).toHaveLength(1);
  });

  test('a tier that is not an AzureTier, and a size from a Terraform variable, are refused', () => {
    expect(problems(ClusterSizing.azure({ value: 'balanced', title: 'Balanced' } as any, 12))).toEqual([
      `test/Topo: invalid prop "sizing.tier" = {"value":"balanced","title":"Balanced"}; allowed: one of ${AZURE_TIER_FACTORIES}`,
    ]);
    expect(problems(ClusterSizing.azure('flash-optimized' as any, 240))).toHaveLength(1);
    const scope = topo();
    const size = new TerraformVariable(scope, 'size', { type: 'number' }).numberValue;
    expect(problems(ClusterSizing.azure(AzureTier.BALANCED, size), scope)[0]).toContain('"sizing.sizeGb" = a Terraform token (number); allowed: a literal value');
  });
});

describe('ClusterSizing.scaleway', () => {
  test('SCALEWAY_NODE_CLASSES: the two classes of seed 003 and their node types', () => {
    expect(SCALEWAY_NODE_CLASSES.map((c) => [c.title, c.intendedFor, c.nodeTypes])).toEqual([
      ['Development', 'Proofs of Concept (PoCs) and tests', ['RED1-S', 'RED1-XS', 'RED1-2XS', 'RED1-MICRO']],
      ['Production', 'more demanding workloads', ['RED1-XL', 'RED1-L', 'RED1-M']],
    ]);
  });

  test('shards = nodes; each pod gets half a node', () => {
    const s = ClusterSizing.scaleway(ScalewayNodeClass.production(RED1_M_AS_GIVEN), 3);
    expect(problems(s)).toEqual([]);
    expect([s.shards, s.memoryLimit, s.cpuRequest]).toEqual([3, '4096Mi', '2000m']);
    expect(s.annotations()).toEqual({
      'redis-topologies.io/sizing': 'Scaleway Managed Database for Redis Production node RED1-M (4 vCPUs, 8 GB RAM, figures given by the user) x 3 nodes (seed 003)',
      'redis-topologies.io/sizing-derivation': '3 nodes = 3 shards (each node: a primary and a replica of another node\'s primary); '
        + '8 GB RAM / 2 Redis processes = 4096Mi limit per pod (maxmemory 0.8 x limit = 3276Mi); 4 vCPU / 2 = 2000m',
    });
    for (const nodes of [3, 4, 5, 6]) expect(ClusterSizing.scaleway(ScalewayNodeClass.production(RED1_M_AS_GIVEN), nodes).shards).toBe(nodes);
    // node type names in any case; small nodes: rounding and the 100m floor
    const micro = ClusterSizing.scaleway(ScalewayNodeClass.development({ name: 'red1-micro', vCpus: 0.1, ramGb: 0.3 }), 3);
    expect(problems(micro)).toEqual([]);
    expect([micro.memoryLimit, micro.cpuRequest]).toEqual(['153Mi', '100m']);
    expect(micro.derivation).toContain('0.1 vCPU / 2 = 100m (raised to the 100m minimum)');
  });

  test('nodes outside 3..6, a node type of the other class, and bad figures are refused together', () => {
    expect(problems(ClusterSizing.scaleway(ScalewayNodeClass.production(RED1_M_AS_GIVEN), 2))).toEqual([
      'test/Topo: invalid prop "sizing.nodes" = 2; allowed: an integer from 3 to 6',
    ]);
    expect(problems(ClusterSizing.scaleway(ScalewayNodeClass.development({ name: 'RED1-M', vCpus: 0, ramGb: 0.01 }), 7))).toEqual([
      'test/Topo: invalid prop "sizing.nodeClass.name" = "RED1-M"; allowed: one of the Development node types: RED1-S, RED1-XS, RED1-2XS, RED1-MICRO (Scaleway\'s node classes, seed 003)',
      'test/Topo: invalid prop "sizing.nodeClass.vCpus" = 0; allowed: a number of vCPUs above zero (from Scaleway\'s node-types list)',
      'test/Topo: invalid prop "sizing.nodeClass.ramGb" = 0.01; allowed: a number of GB of RAM of at least 0.0625 (from Scaleway\'s node-types list; each of the node\'s two Redis processes needs 32Mi)',
      'test/Topo: invalid prop "sizing.nodes" = 7; allowed: an integer from 3 to 6',
    ]);
    expect(problems(ClusterSizing.scaleway({ className: 'production' } as any, 3))).toEqual([
      `test/Topo: invalid prop "sizing.nodeClass" = {"className":"production"}; allowed: one of ${SCALEWAY_NODE_CLASS_FACTORIES}`,
    ]);
    expect(problems(ClusterSizing.scaleway(ScalewayNodeClass.production(undefined as any), 3))).toHaveLength(1);
  });
});

describe('ClusterSizing.explicit', () => {
  test('given numbers pass through', () => {
    const s = ClusterSizing.explicit({ shards: 3, memoryLimit: '2Gi', cpuRequest: '500m' });
    expect(problems(s)).toEqual([]);
    expect([s.shards, s.memoryLimit, s.cpuRequest]).toEqual([3, '2Gi', '500m']);
    expect(s.annotations()).toEqual({
      'redis-topologies.io/sizing': 'explicit: 3 shards, 2Gi memory limit and 500m CPU request per pod',
      'redis-topologies.io/sizing-derivation': 'as given: 3 shards; limit 2Gi per pod; maxmemory 0.8 x limit = 1638Mi; 500m CPU per pod',
    });
    expect(problems(ClusterSizing.explicit({ shards: 3, memoryLimit: '32Mi', cpuRequest: '0.1' }))).toEqual([]);
    expect(problems(ClusterSizing.explicit({ shards: 1, memoryLimit: '32Mi', cpuRequest: '0.1' })).join('\n')).toMatch(/shards.*an integer from 3/);
  });

  test('2 shards, less than 32Mi, a bad CPU quantity, missing options', () => {
    const lines = problems(ClusterSizing.explicit({ shards: 2, memoryLimit: '31Mi', cpuRequest: 'lots' }));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^test\/Topo: invalid prop "sizing.shards" = 2; allowed: an integer from 3 .* to 16384/);
    expect(lines[1]).toMatch(/^test\/Topo: invalid prop "sizing.memoryLimit" = "31Mi"; allowed: a memory quantity of at least 32Mi/);
    expect(lines[2]).toBe('test/Topo: invalid prop "sizing.cpuRequest" = "lots"; allowed: a positive CPU quantity such as 250m, 0.5 or 2');
    expect(problems(ClusterSizing.explicit(undefined as any))).toEqual([
      'test/Topo: invalid prop "sizing" = undefined; allowed: ClusterSizing.explicit({ shards, memoryLimit, cpuRequest }) (required)',
    ]);
    expect(parseQuantity(ClusterSizing.explicit({ shards: 3, memoryLimit: '1Gi', cpuRequest: '1' }).memoryLimit)).toBe(1024 * MI);
  });
});

describe('ClusterSizing is nominal', () => {
  test('an object literal with the same fields is not a ClusterSizing', () => {
    const real = ClusterSizing.explicit({ shards: 3, memoryLimit: '1Gi', cpuRequest: '100m' });
    const lookAlike = { shards: 3, memoryLimit: '1Gi', cpuRequest: '100m', source: real.source, derivation: real.derivation, annotations: () => ({}) };
    expect(real instanceof ClusterSizing).toBe(true);
    expect((lookAlike as unknown) instanceof ClusterSizing).toBe(false);
    // @ts-expect-error the private members make the class nominal
    const typed: ClusterSizing = lookAlike;
    expect(typed).toBe(lookAlike);
    expect(problems(lookAlike)).toEqual([
      `test/Topo: invalid prop "sizing" = ${JSON.stringify(lookAlike)}; allowed: one of ${CLUSTER_SIZING_FACTORIES}`,
    ]);
    expect(problems(undefined)).toEqual([`test/Topo: invalid prop "sizing" = undefined; allowed: ${CLUSTER_SIZING_FACTORIES} (required)`]);
  });
});
