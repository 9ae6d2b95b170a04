import { Availability, DataStorage, RedisTopologyValidationError, SentinelRedis, SentinelRedisProps } from '../../lib';
import { TerraformVariable, Token } from '../../lib/core/cdktf';
import { statefulSetClaimName, VOLUME_CLAIM_TEMPLATE_PATH } from '../../lib/storage/volume-claims';
import { emptyStack, PVC, STS, synth, Synthed } from '../helpers';
import { build, encrypted } from './claims-fixture';


/** Every JSON path where a and b differ, e.g. `spec.volume_claim_template[0].spec.resources.requests.storage`. */
function differences(a: unknown, b: unknown, path = ''): string[] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])];
    return keys.flatMap((k) => differences((a as any)[k], (b as any)[k], Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k));
  }
  return a === b ? [] : [path];
}

/** The resources of a type, keyed by logical id, for the one whose metadata.name is `name`. */
function addressOf(out: Synthed, type: string, name: string): string {
  const found = Object.entries(out.resources(type)).filter(([, r]) => r.metadata?.name === name);
  expect(found).toHaveLength(1);
  return found[0][0];
}

describe('storage grows in place: Terraform owns the claims, the StatefulSet ignores its template', () => {
  const small = build('10Gi');
  const large = build('20Gi');

  test('a larger size changes the claims only; the StatefulSets differ only inside the ignored template', () => {
    // The data StatefulSet: the only difference is the template's size, which its lifecycle ignores.
    const diff = differences(small.named(STS, 'cache'), large.named(STS, 'cache'));
    expect(diff).toEqual(['spec.volume_claim_template[0].spec.resources.requests.storage']);
    expect(large.named(STS, 'cache').lifecycle).toEqual({ ignore_changes: [VOLUME_CLAIM_TEMPLATE_PATH] });
    // The sentinel StatefulSet (its state claims keep their own size) does not change at all.
    expect(differences(small.named(STS, 'cache-sentinel'), large.named(STS, 'cache-sentinel'))).toEqual([]);

    // The claims: same addresses, only requests.storage changes (an in-place update for the provider).
    expect(Object.keys(large.resources(PVC))).toEqual(Object.keys(small.resources(PVC)));
    for (const name of ['data-cache-0', 'data-cache-1']) {
      expect(differences(small.named(PVC, name), large.named(PVC, name))).toEqual(['spec.resources.requests.storage']);
      expect(small.named(PVC, name).spec.resources.requests.storage).toBe('10Gi');
      expect(large.named(PVC, name).spec.resources.requests.storage).toBe('20Gi');
    }
    for (const name of ['state-cache-sentinel-0', 'state-cache-sentinel-1', 'state-cache-sentinel-2']) {
      expect(differences(small.named(PVC, name), large.named(PVC, name))).toEqual([]);
    }

    // Nothing else in the stack changes.
    const others = (out: Synthed) => Object.fromEntries(Object.entries(out.json.resource).filter(([type]) => type !== PVC && type !== STS));
    expect(differences(others(small), others(large))).toEqual([]);
  });

  test('one claim per data member, named as the StatefulSet controller names it, on the encrypted class', () => {
    const sts = small.named(STS, 'cache');
    const template = sts.spec.volume_claim_template[0];
    expect(small.list(PVC).filter((c) => c.metadata.name.startsWith('data-')).map((c) => c.metadata.name).sort()).toEqual(['data-cache-0', 'data-cache-1']);
    for (const ordinal of [0, 1]) {
      const claim = small.named(PVC, statefulSetClaimName(template.metadata.name, sts.metadata.name, ordinal), 'data');
      expect(claim).toEqual({
        metadata: {
          name: `data-cache-${ordinal}`,
          namespace: 'data',
          labels: template.metadata.labels,
          annotations: { 'redis-topologies.io/encryption': 'existing class, vouched: test' },
        },
        spec: { access_modes: ['ReadWriteOnce'], storage_class_name: 'enc', resources: { requests: { storage: '10Gi' } } },
        // WaitForFirstConsumer binds a claim only once its pod is scheduled, after the claim exists.
        wait_until_bound: false,
        // A shrink, another class, a new name or namespace would destroy the claim: refused at plan.
        // createBeforeDestroy orders a scale-in's claim destroy after the StatefulSet's update.
        lifecycle: { prevent_destroy: true, create_before_destroy: true },
      });
    }
    // The claims carry the StatefulSet's selector labels, as the controller's own claims would.
    expect(small.named(PVC, 'data-cache-0').metadata.labels).toMatchObject(sts.spec.selector.match_labels);
    // The template names the claims for the controller and matches them.
    expect(template.metadata.annotations).toEqual(small.named(PVC, 'data-cache-0').metadata.annotations);
    expect(template.spec.storage_class_name).toBe('enc');
  });

  test('the StatefulSets depend on their own claims, so a new pod\'s claim exists before the pod', () => {
    const dataClaims = ['data-cache-0', 'data-cache-1'].map((n) => `${PVC}.${addressOf(small, PVC, n)}`);
    const stateClaims = [0, 1, 2].map((i) => `${PVC}.${addressOf(small, PVC, `state-cache-sentinel-${i}`)}`);
    expect(small.named(STS, 'cache').depends_on).toEqual(dataClaims);
    expect(small.named(STS, 'cache-sentinel').depends_on).toEqual(stateClaims);
    expect(small.named(STS, 'cache-sentinel').lifecycle).toEqual({ ignore_changes: [VOLUME_CLAIM_TEMPLATE_PATH] });
  });

  test('a third data member adds exactly one claim and keeps the others\' construct ids and addresses', () => {
    const three = build('10Gi', { dataMembers: 3 });
    const before = small.resources(PVC);
    const after = three.resources(PVC);
    const added = Object.keys(after).filter((id) => !(id in before));
    expect(Object.keys(before).filter((id) => !(id in after))).toEqual([]);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^Cache_DataClaim2_/);
    expect(after[added[0]].metadata.name).toBe('data-cache-2');
    for (const id of Object.keys(before)) expect(after[id]).toEqual(before[id]);
    // Ids depend on the ordinal only: DataClaim0 is data-cache-0 whatever the size or count.
    expect(addressOf(small, PVC, 'data-cache-0')).toMatch(/^Cache_DataClaim0_/);
    expect(addressOf(large, PVC, 'data-cache-0')).toBe(addressOf(small, PVC, 'data-cache-0'));
    expect(three.named(STS, 'cache').depends_on).toContain(`${PVC}.${added[0]}`);
  });

  test('sentinel state claims: their own size, their own ids, grown like the data', () => {
    const names = small.list(PVC).filter((c) => c.metadata.name.startsWith('state-')).map((c) => c.metadata.name).sort();
    expect(names).toEqual(['state-cache-sentinel-0', 'state-cache-sentinel-1', 'state-cache-sentinel-2']);
    const claim = small.named(PVC, 'state-cache-sentinel-1');
    expect(claim.spec).toEqual({ access_modes: ['ReadWriteOnce'], storage_class_name: 'enc', resources: { requests: { storage: '1Gi' } } });
    expect(claim.metadata.labels).toEqual(small.named(STS, 'cache-sentinel').spec.volume_claim_template[0].metadata.labels);
    expect(claim.metadata.labels['app.kubernetes.io/component']).toBe('sentinel');
    expect(claim.lifecycle).toEqual({ prevent_destroy: true, create_before_destroy: true });
    expect(claim.wait_until_bound).toBe(false);
    expect(addressOf(small, PVC, 'state-cache-sentinel-1')).toMatch(/^Cache_SentinelStateClaim1_/);

    const grown = build('10Gi', { sentinelStateSize: '2Gi' });
    expect(differences(small.named(STS, 'cache-sentinel'), grown.named(STS, 'cache-sentinel')))
      .toEqual(['spec.volume_claim_template[0].spec.resources.requests.storage']);
    expect(differences(small.named(STS, 'cache'), grown.named(STS, 'cache'))).toEqual([]);
    for (const i of [0, 1, 2]) {
      expect(differences(small.named(PVC, `state-cache-sentinel-${i}`), grown.named(PVC, `state-cache-sentinel-${i}`))).toEqual(['spec.resources.requests.storage']);
    }

    const five = build('10Gi', { sentinels: 5 });
    const added = Object.keys(five.resources(PVC)).filter((id) => !(id in small.resources(PVC)));
    expect(added.map((id) => five.resources(PVC)[id].metadata.name).sort()).toEqual(['state-cache-sentinel-3', 'state-cache-sentinel-4']);
  });

  test('ephemeral storage: no claims, and the StatefulSets have no template, lifecycle or dependencies', () => {
    const out = build('', { sentinels: 3 }, () => DataStorage.ephemeral({ sizeLimit: '1Gi' }));
    expect(out.resources(PVC)).toEqual({});
    for (const name of ['cache', 'cache-sentinel']) {
      const sts = out.named(STS, name);
      expect(sts.spec.volume_claim_template).toBeUndefined();
      expect(sts.lifecycle).toBeUndefined();
      expect(sts.depends_on).toBeUndefined();
    }
  });

  test('unencrypted storage on the default class: claims without a storage class, annotated', () => {
    const out = build('', {}, () => DataStorage.unencrypted({ size: '3Gi', acknowledgeUnencrypted: true }));
    const claim = out.named(PVC, 'data-cache-0');
    expect(claim.spec).toEqual({ access_modes: ['ReadWriteOnce'], resources: { requests: { storage: '3Gi' } } });
    expect(claim.metadata.annotations).toEqual({ 'redis-topologies.io/encryption': 'UNENCRYPTED (accepted: yes)' });
  });

  test('development mode: one data claim, no sentinel claims', () => {
    const out = build('10Gi', { availability: Availability.DEVELOPMENT });
    expect(out.list(PVC).map((c) => c.metadata.name)).toEqual(['data-cache-0']);
    expect(out.named(STS, 'cache').depends_on).toEqual([`${PVC}.${addressOf(out, PVC, 'data-cache-0')}`]);
  });

  test('a member or sentinel count that is a Terraform token is refused at synth: claims are named by ordinal', () => {
    const refused = (over: Partial<SentinelRedisProps>) => {
      const s = emptyStack();
      try {
        new SentinelRedis(s, 'Cache', { namespace: 'data', storage: encrypted(s, '10Gi'), ...over });
      } catch (e) {
        expect(e).toBeInstanceOf(RedisTopologyValidationError);
        return (e as Error).message;
      }
      return 'not refused';
    };
    const why = (what: string) => `allowed: a literal value, not a Terraform token: each ${what}'s DNS name and volume claim are derived from it`;
    expect(refused({ dataMembers: Token.asNumber('${var.members}') })).toBe(`test/Cache: invalid prop "dataMembers" = a Terraform token (number); ${why('member')}`);
    expect(refused({ sentinels: Token.asNumber('${var.sentinels}') })).toBe(`test/Cache: invalid prop "sentinels" = a Terraform token (number); ${why('sentinel')}`);
    // Also with ephemeral storage, where there are no claims: the pods' DNS names need the counts.
    const s = emptyStack();
    expect(() => new SentinelRedis(s, 'Eph', { namespace: 'data', storage: DataStorage.ephemeral(), dataMembers: Token.asNumber('${var.members}') }))
      .toThrow(`test/Eph: invalid prop "dataMembers" = a Terraform token (number); ${why('member')}`);
  });

  test('a token size is passed to the claims as a reference', () => {
    const out = synth((s) => {
      const size = new TerraformVariable(s, 'redis_disk', { type: 'string' });
      new SentinelRedis(s, 'Cache', { namespace: 'data', storage: encrypted(s, size.stringValue) });
    });
    expect(out.named(PVC, 'data-cache-1').spec.resources.requests.storage).toBe('${var.redis_disk}');
  });
});
