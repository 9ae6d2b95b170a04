/**
 * The connection details as the topologies publish them (issue 10): a SentinelRedis's ConfigMap
 * says its master group, sentinel auth and TLS; its password Secret goes into the application
 * namespaces, which are admitted; a portal in front publishes the same password Secret beside its
 * connection ConfigMap. An existing Secret's password is unknown to Terraform: refused.
 */
import { AccessClient, DataStorage, HaproxyPortal, RedisAuth, SentinelRedis, SentinelRedisProps } from '../../lib';
import { CM, NP, SECRET, emptyStack, synth, Synthed } from '../helpers';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function topology(over: Partial<SentinelRedisProps> = {}, portal?: ConstructorParameters<typeof HaproxyPortal>[2]['connection']): { out: Synthed; redis: SentinelRedis } {
  let redis!: SentinelRedis;
  const out = synth((s) => {
    redis = new SentinelRedis(s, 'Sessions', { namespace: 'redis-system', storage: DataStorage.ephemeral(), ...over });
    if (portal) new HaproxyPortal(s, 'Portal', { backend: redis, connection: portal });
  });
  return { out, redis };
}

function secretsOf(out: Synthed, name: string): string[] {
  return out.list(SECRET).filter((s) => s.metadata.name === name).map((s) => s.metadata.namespace).sort();
}

function admitted(out: Synthed, policy: string): string[] {
  // Each namespace may appear in several rules (whole namespace, labelled pods): once each here.
  return [...new Set<string>(out.named(NP, policy).spec.ingress.flatMap((i: any) => i.from ?? [])
    .map((f: any) => f.namespace_selector?.match_labels?.['kubernetes.io/metadata.name']).filter(Boolean))].sort();
}

describe('SentinelRedis publishes what an application needs', () => {
  test('sentinel auth and TLS flags; with TLS the CA Secret and, when given, the PEM', () => {
    expect(topology().out.named(CM, 'sessions-redis-config').data).toMatchObject({ REDIS_SENTINEL_MASTER_NAME: 'mymaster', REDIS_SENTINEL_AUTH: 'true', REDIS_TLS: 'false' });
    const tls = topology({ tlsSecretName: 'sessions-tls', tlsCaCertificatePem: PEM }).out.named(CM, 'sessions-redis-config').data;
    expect(tls).toMatchObject({ REDIS_SENTINEL_AUTH: 'true', REDIS_TLS: 'true', REDIS_TLS_CA_SECRET: 'redis-system/sessions-tls', 'ca.crt': PEM });
  });

  test('the password Secret: generated password by reference, only in the named namespaces, which are admitted', () => {
    const { out, redis } = topology({ elastisysConfigMap: { namespaces: ['shop'] }, passwordSecret: { name: 'sessions-redis-password', namespaces: ['shop', 'billing'] } });
    expect(secretsOf(out, 'sessions-redis-password')).toEqual(['billing', 'shop']);
    expect(out.named(SECRET, 'sessions-redis-password', 'shop').data.password).toMatch(/^\$\{random_password\.\w+\.result\}$/);
    expect(out.named(SECRET, 'sessions-redis-password', 'shop').data.password).toBe(out.named(SECRET, 'sessions-auth').data.password);
    expect(redis.password).toBeDefined();
    expect(admitted(out, 'sessions-allow-clients')).toEqual(['billing', 'shop']);
    expect(JSON.stringify(out.resources(CM))).not.toContain('random_password');
  });

  test('by default beside the Elastisys ConfigMap', () => {
    const { out } = topology({ elastisysConfigMap: { namespaces: ['shop'] }, passwordSecret: { name: 'pw' } });
    expect(secretsOf(out, 'pw')).toEqual(['shop']);
  });

  test('RedisAuth.fromExistingSecret: refused, saying what to do instead', () => {
    expect(() => new SentinelRedis(emptyStack(), 'Sessions', {
      namespace: 'redis-system', storage: DataStorage.ephemeral(), auth: RedisAuth.fromExistingSecret({ secretName: 'mine' }), passwordSecret: { name: 'pw', namespaces: ['shop'] },
    })).toThrow('test/Sessions: invalid prop "passwordSecret" = {"name":"pw","namespaces":["shop"]}; allowed: only with RedisAuth.generated(): with RedisAuth.fromExistingSecret the password is in your Secret');
  });

  test('bad namespaces are reported by the topology before the access policy is built', () => {
    expect(() => new SentinelRedis(emptyStack(), 'Sessions', { namespace: 'redis-system', storage: DataStorage.ephemeral(), passwordSecret: { name: 'pw', namespaces: ['Shop'] } }))
      .toThrow('test/Sessions: invalid prop "passwordSecret.namespaces[0]" = "Shop"');
  });

  test('a CA PEM without TLS is refused', () => {
    expect(() => new SentinelRedis(emptyStack(), 'Sessions', { namespace: 'redis-system', storage: DataStorage.ephemeral(), tlsCaCertificatePem: PEM }))
      .toThrow('invalid prop "tlsCaCertificatePem"');
  });
});

describe('HaproxyPortal publishes the password Secret beside its connection ConfigMap', () => {
  test('in connection.namespaces by default; the namespaces are admitted to the portal', () => {
    const { out } = topology({}, { namespaces: ['shop'], passwordSecret: { name: 'sessions-portal-password' } });
    expect(secretsOf(out, 'sessions-portal-password')).toEqual(['shop']);
    expect(out.named(SECRET, 'sessions-portal-password', 'shop').data.password).toBe(out.named(SECRET, 'sessions-auth').data.password);
    expect(out.named(CM, 'sessions-portal-connection', 'shop').data.REDIS_TLS_SERVER_NAME).toBe('sessions-portal.redis-system.svc.cluster.local');
  });

  test('a namespace only given the password Secret is admitted too', () => {
    const { out } = topology({ clients: [AccessClient.namespace('shop')] }, { namespaces: ['shop'], passwordSecret: { name: 'pw', namespaces: ['shop', 'billing'] } });
    expect(admitted(out, 'sessions-portal-allow-clients')).toEqual(['billing', 'shop']);
  });

  test('a backend with an existing Secret: refused by the portal\'s connection', () => {
    const s = emptyStack();
    const backend = new SentinelRedis(s, 'Sessions', { namespace: 'redis-system', storage: DataStorage.ephemeral(), auth: RedisAuth.fromExistingSecret({ secretName: 'mine' }) });
    expect(() => new HaproxyPortal(s, 'Portal', { backend, connection: { passwordSecret: { name: 'pw' } } }))
      .toThrow('test/Portal/Connection: invalid prop "connection.passwordSecret" = {"name":"pw"}; allowed: only with a backend whose password Terraform knows');
  });
});
