import { Construct } from 'constructs';
import { DataStorage, EncryptedStorageClass, IEncryptedStorageClass, SentinelRedis } from '../../lib';
import { TerraformVariable } from '../../lib/core/cdktf';
import { PropsValidator } from '../../lib/core/validation';
import { emptyStack, STS, synth } from '../helpers';
import { NAME_ALLOWED, problems } from './problems';

const SIZE_ALLOWED = 'a storage quantity above zero, such as 10Gi or 500Mi';
const ACK_ALLOWED = 'true (unencrypted persistent volumes need an explicit opt-out), or use DataStorage.encrypted(...)';

describe('DataStorage', () => {
  const sc = (): IEncryptedStorageClass => EncryptedStorageClass.fromExisting(emptyStack(), 'E', { storageClassName: 'enc', vouchedBy: 'platform' });
  /** The problems a topology at test/Topo records for its `storage` prop. */
  const check = (value: unknown): string[] => {
    const v = new PropsValidator(new Construct(emptyStack(), 'Topo'));
    DataStorage._check(v, 'storage', value);
    return problems(() => v.throwIfInvalid());
  };
  const ok = (value: unknown): boolean => {
    const v = new PropsValidator(new Construct(emptyStack(), 'Topo'));
    const is = DataStorage._check(v, 'storage', value);
    return is && !v.hasViolations;
  };

  test('sizes are storage quantities above zero', () => {
    expect(check(DataStorage.encrypted(sc(), '0'))).toEqual([`test/Topo: invalid prop "storage.size" = "0"; allowed: ${SIZE_ALLOWED}`]);
    expect(check(DataStorage.encrypted(sc(), '-1Gi'))).toEqual([`test/Topo: invalid prop "storage.size" = "-1Gi"; allowed: ${SIZE_ALLOWED}`]);
    expect(check(DataStorage.encrypted(sc(), '10 gigs'))).toEqual([`test/Topo: invalid prop "storage.size" = "10 gigs"; allowed: ${SIZE_ALLOWED}`]);
    expect(check(DataStorage.encrypted(sc(), 10 as any))).toEqual([`test/Topo: invalid prop "storage.size" = 10; allowed: ${SIZE_ALLOWED}`]);
    expect(check(DataStorage.encrypted(sc(), undefined as any))).toEqual([`test/Topo: invalid prop "storage.size" = undefined; allowed: ${SIZE_ALLOWED} (required)`]);
    expect(check(DataStorage.ephemeral({ sizeLimit: '0' }))).toEqual([`test/Topo: invalid prop "storage.sizeLimit" = "0"; allowed: ${SIZE_ALLOWED}`]);
    expect(check(DataStorage.unencrypted({ size: '0Mi', acknowledgeUnencrypted: true }))).toEqual([`test/Topo: invalid prop "storage.size" = "0Mi"; allowed: ${SIZE_ALLOWED}`]);
    for (const size of ['10Gi', '500Mi', '1.5Gi', '1e9', '100G']) expect(ok(DataStorage.encrypted(sc(), size))).toBe(true);
    expect(ok(DataStorage.ephemeral())).toBe(true);
    expect(ok(DataStorage.ephemeral({ sizeLimit: '1Gi' }))).toBe(true);
  });

  test('unencrypted storage needs acknowledgeUnencrypted: true, exactly', () => {
    expect(check(DataStorage.unencrypted({ size: '1Gi' } as any))).toEqual([
      `test/Topo: invalid prop "storage.acknowledgeUnencrypted" = undefined; allowed: ${ACK_ALLOWED}`,
    ]);
    expect(check(DataStorage.unencrypted({ size: '1Gi', acknowledgeUnencrypted: 'yes' as any }))).toEqual([
      `test/Topo: invalid prop "storage.acknowledgeUnencrypted" = "yes"; allowed: ${ACK_ALLOWED}`,
    ]);
    expect(check(DataStorage.unencrypted({ size: '1Gi', acknowledgeUnencrypted: false }))).toEqual([
      `test/Topo: invalid prop "storage.acknowledgeUnencrypted" = false; allowed: ${ACK_ALLOWED}`,
    ]);
    expect(check(DataStorage.unencrypted({ size: '1Gi', acknowledgeUnencrypted: 1 as any }))[0]).toContain('"storage.acknowledgeUnencrypted" = 1');
    const accepted = DataStorage.unencrypted({ size: '1Gi', acknowledgeUnencrypted: true });
    expect(ok(accepted)).toBe(true);
    expect(accepted.description).toBe('UNENCRYPTED (accepted: yes)');
  });

  test('unencrypted: every problem at once, and no TypeError without options', () => {
    expect(check(DataStorage.unencrypted({ size: '0', storageClassName: 'Gp2 Class', acknowledgeUnencrypted: 'yes' as any }))).toEqual([
      `test/Topo: invalid prop "storage.size" = "0"; allowed: ${SIZE_ALLOWED}`,
      `test/Topo: invalid prop "storage.storageClassName" = "Gp2 Class"; allowed: ${NAME_ALLOWED}`,
      `test/Topo: invalid prop "storage.acknowledgeUnencrypted" = "yes"; allowed: ${ACK_ALLOWED}`,
    ]);
    expect(check(DataStorage.unencrypted(undefined as any))).toEqual([
      'test/Topo: invalid prop "storage" = undefined; allowed: DataStorage.unencrypted({ size, storageClassName?, acknowledgeUnencrypted: true }) (required)',
    ]);
  });

  test('encrypted: a storage class that is not an IEncryptedStorageClass is refused', () => {
    const allowed = 'an IEncryptedStorageClass: new EncryptedStorageClass(...) or EncryptedStorageClass.fromExisting(...)';
    expect(check(DataStorage.encrypted('gp3-encrypted' as any, '10Gi'))).toEqual([`test/Topo: invalid prop "storage.storageClass" = "gp3-encrypted"; allowed: ${allowed}`]);
    expect(check(DataStorage.encrypted(undefined as any, '10Gi'))).toEqual([`test/Topo: invalid prop "storage.storageClass" = undefined; allowed: ${allowed}`]);
    expect(check(DataStorage.encrypted({ storageClassName: 'gp3' } as any, '10Gi'))).toEqual([`test/Topo: invalid prop "storage.storageClass" = {"storageClassName":"gp3"}; allowed: ${allowed}`]);
    // arguments swapped from JavaScript: both reported
    expect(check(DataStorage.encrypted('10Gi' as any, sc() as any))).toHaveLength(2);
  });

  test('_check: a missing storage, a look-alike or a string is refused with the exact message', () => {
    expect(check(undefined)).toEqual([
      'test/Topo: invalid prop "storage" = undefined; allowed: DataStorage.encrypted(...), DataStorage.unencrypted(...) or DataStorage.ephemeral() (required)',
    ]);
    const lookAlike = { kind: 'persistent', size: '10Gi', storageClassName: 'enc', encrypted: true, description: 'x' };
    expect(check(lookAlike)).toEqual([
      `test/Topo: invalid prop "storage" = ${JSON.stringify(lookAlike)}; allowed: one of DataStorage.encrypted(...), DataStorage.unencrypted(...) or DataStorage.ephemeral()`,
    ]);
    expect(check('ephemeral')).toEqual([
      'test/Topo: invalid prop "storage" = "ephemeral"; allowed: one of DataStorage.encrypted(...), DataStorage.unencrypted(...) or DataStorage.ephemeral()',
    ]);
  });

  test('DataStorage is nominal: an object literal does not type-check', () => {
    // @ts-expect-error a look-alike is not a DataStorage (private member)
    const storage: DataStorage = { kind: 'persistent', size: '1Gi', storageClassName: 'x', encrypted: true, description: 'x', _validate: () => undefined };
    expect(storage).toBeDefined();
  });

  test('_check returns whether the value is a DataStorage, and records problems inside it', () => {
    const v = new PropsValidator(new Construct(emptyStack(), 'Topo'));
    expect(DataStorage._check(v, 'storage', DataStorage.encrypted(sc(), '0'))).toBe(true);
    expect(v.failed('storage')).toBe(true);
    expect(DataStorage._check(new PropsValidator(new Construct(emptyStack(), 'T2')), 'storage', {})).toBe(false);
  });

  test('a token size synthesizes through a topology', () => {
    const out = synth((s) => {
      const size = new TerraformVariable(s, 'redis_disk', { type: 'string' });
      const enc = EncryptedStorageClass.fromExisting(s, 'Sc', { storageClassName: 'enc', vouchedBy: 'test' });
      expect(ok(DataStorage.encrypted(enc, size.stringValue))).toBe(true);
      new SentinelRedis(s, 'Cache', { namespace: 'data', storage: DataStorage.encrypted(enc, size.stringValue) });
    });
    const sts = Object.values(out.resources(STS)).find((r: any) => r.metadata.name === 'cache') as any;
    expect(sts.spec.volume_claim_template[0].spec.resources.requests.storage).toBe('${var.redis_disk}');
    expect(sts.spec.volume_claim_template[0].spec.storage_class_name).toBe('enc');
  });
});
