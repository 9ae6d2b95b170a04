/**
 * What a portal publishes for applications (issue 10): host, port, TLS flag, the name the
 * certificate is issued for and the CA, in ConfigMaps; the password only in an optional password
 * Secret, in the application namespaces named.
 */
import { DataStorage, HaproxyPortal, HaproxyPortalProps, PortalConnection, PortalConnectionProps, SentinelRedis } from '../../lib';
import { TerraformVariable } from '../../lib/core/cdktf';
import { CM, SECRET, emptyStack, synth, Synthed } from '../helpers';

const PASSWORD = 'portal-pw-1';
const base: PortalConnectionProps = {
  name: 'sessions-portal',
  namespace: 'redis-system',
  host: 'sessions-portal.redis-system.svc.cluster.local',
  port: 6380,
  caCertificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  labels: { 'app.kubernetes.io/instance': 'sessions-portal' },
};

function connection(over: Partial<PortalConnectionProps> = {}): Synthed {
  return synth((s) => new PortalConnection(s, 'Connection', { ...base, ...over }));
}

function messageFor(props: unknown): string {
  try {
    new PortalConnection(emptyStack(), 'Connection', props as PortalConnectionProps);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

function secretsOf(out: Synthed): string[][] {
  return out.list(SECRET).map((s) => [s.metadata.namespace, s.metadata.name]).sort();
}

describe('PortalConnection', () => {
  test('REDIS_TLS_SERVER_NAME: the name the certificate is issued for, beside host, port, TLS flag and CA, in every namespace', () => {
    const out = connection({ namespaces: ['shop', 'billing'] });
    for (const ns of ['redis-system', 'shop', 'billing']) {
      expect(out.named(CM, 'sessions-portal-connection', ns).data).toEqual({
        REDIS_HOST: base.host,
        REDIS_PORT: '6380',
        REDIS_TLS: 'true',
        REDIS_TLS_SERVER_NAME: base.host,
        'ca.crt': base.caCertificatePem,
      });
    }
  });

  test('no password Secret by default, even with a password', () => {
    expect(secretsOf(connection({ namespaces: ['shop'], password: PASSWORD }))).toEqual([]);
  });

  test('password Secret in exactly the named namespaces, key password', () => {
    const out = connection({ namespaces: ['shop', 'billing'], password: PASSWORD, passwordSecret: { name: 'sessions-redis-password', namespaces: ['shop'] } });
    expect(secretsOf(out)).toEqual([['shop', 'sessions-redis-password']]);
    expect(out.named(SECRET, 'sessions-redis-password', 'shop').data).toEqual({ password: PASSWORD });
  });

  test('by default in the application namespaces of connection.namespaces, else the portal\'s', () => {
    expect(secretsOf(connection({ namespaces: ['shop', 'billing'], password: PASSWORD, passwordSecret: { name: 'pw' } }))).toEqual([['billing', 'pw'], ['shop', 'pw']]);
    expect(secretsOf(connection({ password: PASSWORD, passwordSecret: { name: 'pw' } }))).toEqual([['redis-system', 'pw']]);
  });

  test('the password is never in a ConfigMap, and a generated one stays a reference', () => {
    const out = synth((s) => {
      const pw = new TerraformVariable(s, 'redis_password', { type: 'string', sensitive: true });
      new PortalConnection(s, 'Connection', { ...base, namespaces: ['shop'], password: pw.stringValue, passwordSecret: { name: 'pw', namespaces: ['shop'] } });
    });
    expect(out.named(SECRET, 'pw', 'shop').data).toEqual({ password: '${var.redis_password}' });
    expect(JSON.stringify(out.resources(CM))).not.toContain('redis_password');
  });

  test('outputs unchanged by the password Secret', () => {
    const before = connection({ namespaces: ['shop'] }).outputs();
    const after = connection({ namespaces: ['shop'], password: PASSWORD, passwordSecret: { name: 'pw' } }).outputs();
    expect(after).toEqual(before);
    expect(JSON.stringify(after)).not.toContain(PASSWORD);
    expect(Object.keys(after).sort()).toEqual(['ca_pem', 'host', 'port', 'tls'].map((k) => `redis_redis_system_sessions_portal_${k}`));
  });

  test.each<[string, unknown, string]>([
    ['bad name', { passwordSecret: { name: 'pw!' } }, 'test/Connection: invalid prop "connection.passwordSecret.name" = "pw!"; allowed: a Secret name (DNS-1123 subdomain)'],
    ['missing name', { passwordSecret: { namespaces: ['shop'] } }, 'invalid prop "connection.passwordSecret.name" = undefined; allowed: a Secret name (DNS-1123 subdomain) (required)'],
    ['bad namespace', { passwordSecret: { name: 'pw', namespaces: ['shop', 'Billing'] } }, 'invalid prop "connection.passwordSecret.namespaces[1]" = "Billing"; allowed: a namespace name'],
    ['not an object', { passwordSecret: ['pw'] }, 'invalid prop "connection.passwordSecret" = ["pw"]; allowed: password Secret options { name, namespaces? }'],
  ])('validation: %s', (_what, over, message) => {
    expect(messageFor({ ...base, password: PASSWORD, ...(over as object) })).toContain(message);
  });

  test('no password known to Terraform: refused, saying what to do instead', () => {
    expect(messageFor({ ...base, passwordSecret: { name: 'pw', namespaces: ['shop'] } })).toBe(
      'test/Connection: invalid prop "connection.passwordSecret" = {"name":"pw","namespaces":["shop"]}; allowed: only with a backend whose password Terraform knows '
      + '(a SentinelRedis with RedisAuth.generated()): with RedisAuth.fromExistingSecret or an imported topology the password is in a Secret Terraform never reads; '
      + 'copy that Secret into the application namespaces yourself');
  });
});

describe('HaproxyPortal publishes through PortalConnection', () => {
  test('its ConfigMap names the certificate\'s host in every namespace', () => {
    const out = synth((s) => {
      const redis = new SentinelRedis(s, 'Sessions', { namespace: 'redis-system', storage: DataStorage.ephemeral() });
      new HaproxyPortal(s, 'Portal', { backend: redis, connection: { namespaces: ['shop'] } });
    });
    for (const ns of ['redis-system', 'shop']) {
      const data = out.named(CM, 'sessions-portal-connection', ns).data;
      expect(data.REDIS_TLS_SERVER_NAME).toBe('sessions-portal.redis-system.svc.cluster.local');
      expect(data.REDIS_TLS_SERVER_NAME).toBe(data.REDIS_HOST);
    }
  });

  test('a password Secret for an imported backend (password unknown to Terraform) is refused', () => {
    const s = emptyStack();
    const backend = SentinelRedis.fromAttributes(s, 'Imported', { name: 'sessions', namespace: 'redis-system' });
    expect(() => new HaproxyPortal(s, 'Portal', { backend, connection: { namespaces: ['shop'], passwordSecret: { name: 'pw' } } } as HaproxyPortalProps))
      .toThrow(/^test\/Portal(\/Connection)?: invalid prop "connection\.passwordSecret" = \{"name":"pw"\}; allowed: only with a backend whose password Terraform knows/m);
  });
});
