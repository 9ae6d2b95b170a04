/**
 * What an application in its own namespace is given (issue 10): the Elastisys ConfigMap says which
 * master group to ask the sentinels for, that the sentinels want the password and whether TLS is on;
 * an optional password Secret carries the password into the application namespaces; nothing secret
 * ever lands in a ConfigMap and the Terraform outputs stay as they were.
 */
import {
  ConnectionContract, ConnectionContractProps, DataStorage, DuplicateObjectError, SentinelConnectionDetails, SentinelRedis,
} from '../../lib';
import { TerraformVariable } from '../../lib/core/cdktf';
import { CM, SECRET, emptyStack, synth, Synthed } from '../helpers';

const PASSWORD = 's3cret-pw';
const details: SentinelConnectionDetails = {
  clusterName: 'sessions',
  namespace: 'cache',
  masterName: 'mymaster',
  sentinelServiceHost: 'sessions-sentinel.cache',
  sentinelPort: 26379,
  sentinelPodHosts: ['sessions-sentinel-0.sessions-sentinel-headless.cache.svc.cluster.local'],
  password: PASSWORD,
};

function contract(over: Partial<ConnectionContractProps> = {}, d: Partial<SentinelConnectionDetails> = {}): Synthed {
  return synth((s) => new ConnectionContract(s, 'Contract', { details: { ...details, ...d }, ...over }));
}

/** The message ConnectionContract `C` throws for these props (or '' when it builds). */
function messageFor(props: unknown): string {
  try {
    new ConnectionContract(emptyStack(), 'C', props as ConnectionContractProps);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

/** [namespace, name] of every Secret of the plan. */
function secretsOf(out: Synthed): string[][] {
  return out.list(SECRET).map((s) => [s.metadata.namespace, s.metadata.name]).sort();
}

describe('Elastisys ConfigMap: what a sentinel client needs besides host and port', () => {
  test('the master group, sentinel auth and the TLS flag, in every namespace; the first three keys as before', () => {
    const out = contract({ elastisysConfigMap: { name: 'app-redis-config', namespaces: ['shop', 'billing'] } }, { masterName: 'sessions-group' });
    for (const ns of ['shop', 'billing']) {
      expect(out.named(CM, 'app-redis-config', ns).data).toEqual({
        REDIS_CLUSTER_NAME: 'sessions',
        REDIS_SENTINEL_HOST: 'sessions-sentinel.cache',
        REDIS_SENTINEL_PORT: '26379',
        REDIS_SENTINEL_MASTER_NAME: 'sessions-group',
        REDIS_SENTINEL_AUTH: 'true',
        REDIS_TLS: 'false',
      });
    }
  });

  test('sentinels without auth say so', () => {
    expect(contract({}, { sentinelAuth: false }).named(CM, 'sessions-redis-config').data.REDIS_SENTINEL_AUTH).toBe('false');
  });

  test('TLS inside the topology: REDIS_TLS and where the CA is (the Secret as <namespace>/<name>, the PEM when Terraform knows it)', () => {
    const bySecret = contract({}, { tls: true, tlsCaSecretName: 'sessions-tls' }).named(CM, 'sessions-redis-config').data;
    expect(bySecret).toMatchObject({ REDIS_TLS: 'true', REDIS_TLS_CA_SECRET: 'cache/sessions-tls' });
    expect(bySecret['ca.crt']).toBeUndefined();
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const byPem = contract({}, { tls: true, tlsCaCertificatePem: pem }).named(CM, 'sessions-redis-config').data;
    expect(byPem).toMatchObject({ REDIS_TLS: 'true', 'ca.crt': pem });
    expect(byPem.REDIS_TLS_CA_SECRET).toBeUndefined();
  });

  test('without TLS no CA keys, even when a CA is given', () => {
    const data = contract({}, { tlsCaSecretName: 'sessions-tls' }).named(CM, 'sessions-redis-config').data;
    expect(Object.keys(data).filter((k) => /CA|ca\.crt/.test(k))).toEqual([]);
  });

  test('a namespace from a Terraform variable: the CA Secret reference keeps it as a reference', () => {
    const out = synth((s) => {
      const ns = new TerraformVariable(s, 'ns', { type: 'string' }).stringValue;
      new ConnectionContract(s, 'Contract', { details: { ...details, namespace: ns, tls: true, tlsCaSecretName: 'sessions-tls' }, passwordSecret: { name: 'sessions-password' } });
    });
    expect(out.named(CM, 'sessions-redis-config').data.REDIS_TLS_CA_SECRET).toBe('${var.ns}/sessions-tls');
    expect(out.named(SECRET, 'sessions-password').metadata.namespace).toBe('${var.ns}');
  });

  test('a SentinelRedis answers the question its ConfigMap asks: the master group it monitors', () => {
    let redis!: SentinelRedis;
    const out = synth((s) => {
      redis = new SentinelRedis(s, 'Sessions', { namespace: 'redis-system', storage: DataStorage.ephemeral(), masterName: 'sessions-group' });
    });
    const data = out.named(CM, 'sessions-redis-config').data;
    expect(data.REDIS_SENTINEL_MASTER_NAME).toBe('sessions-group');
    expect(data.REDIS_SENTINEL_AUTH).toBe('true');
    // The name the sentinels are configured with: sentinel-master.conf's per-master lines.
    expect(redis.configFiles['sentinel-master.conf']).toContain(`sentinel down-after-milliseconds ${data.REDIS_SENTINEL_MASTER_NAME} `);
  });
});

describe('password Secret', () => {
  test('not published by default', () => {
    expect(secretsOf(contract({ elastisysConfigMap: { namespaces: ['shop'] } }))).toEqual([]);
  });

  test('in exactly the named namespaces, key password, nowhere else', () => {
    const out = contract({ elastisysConfigMap: { namespaces: ['shop'] }, passwordSecret: { name: 'sessions-redis-password', namespaces: ['shop', 'billing'] } });
    expect(secretsOf(out)).toEqual([['billing', 'sessions-redis-password'], ['shop', 'sessions-redis-password']]);
    for (const ns of ['shop', 'billing']) {
      const secret = out.named(SECRET, 'sessions-redis-password', ns);
      expect(secret.data).toEqual({ password: PASSWORD });
      expect(secret.type).toBe('Opaque');
      expect(secret.metadata.labels).toMatchObject({ 'app.kubernetes.io/component': 'connection', 'app.kubernetes.io/instance': 'sessions' });
    }
  });

  test('by default beside the ConfigMap: its namespaces, else the topology\'s', () => {
    const beside = contract({ elastisysConfigMap: { namespaces: ['shop', 'billing'] }, passwordSecret: { name: 'pw' } });
    expect(secretsOf(beside)).toEqual([['billing', 'pw'], ['shop', 'pw']]);
    expect(secretsOf(contract({ passwordSecret: { name: 'pw' } }))).toEqual([['cache', 'pw']]);
    expect(secretsOf(contract({ elastisysConfigMap: false, passwordSecret: { name: 'pw' } }))).toEqual([['cache', 'pw']]);
  });

  test('a generated password stays a Terraform reference', () => {
    const out = synth((s) => {
      const pw = new TerraformVariable(s, 'redis_password', { type: 'string', sensitive: true });
      new ConnectionContract(s, 'Contract', { details: { ...details, password: pw.stringValue }, passwordSecret: { name: 'pw', namespaces: ['shop'] } });
    });
    expect(out.named(SECRET, 'pw', 'shop').data).toEqual({ password: '${var.redis_password}' });
  });

  test('a separate sentinel password gets its own key', () => {
    const out = contract({ passwordSecret: { name: 'pw' } }, { sentinelPassword: 'sentinel-pw' });
    expect(out.named(SECRET, 'pw').data).toEqual({ password: PASSWORD, 'sentinel-password': 'sentinel-pw' });
    expect(contract({ passwordSecret: { name: 'pw' } }, { sentinelPassword: PASSWORD }).named(SECRET, 'pw').data).toEqual({ password: PASSWORD });
  });

  test('never in a ConfigMap, whatever is published', () => {
    const out = synth((s) => {
      const pw = new TerraformVariable(s, 'redis_password', { type: 'string', sensitive: true });
      new ConnectionContract(s, 'Contract', {
        details: { ...details, password: pw.stringValue, tls: true, tlsCaSecretName: 'sessions-tls' },
        elastisysConfigMap: { namespaces: ['shop'] },
        passwordSecret: { name: 'pw', namespaces: ['shop'] },
        threeScaleSecret: { name: 'system-redis', namespaces: ['shop'] },
      });
      new ConnectionContract(s, 'Literal', {
        details: { ...details, clusterName: 'other' }, elastisysConfigMap: { namespaces: ['shop'] }, passwordSecret: { name: 'other-pw', namespaces: ['shop'] }, outputs: false,
      });
    });
    const configMaps = JSON.stringify(out.resources(CM));
    expect(out.list(CM)).toHaveLength(2);
    expect(configMaps).not.toContain('redis_password');
    expect(configMaps).not.toContain(PASSWORD);
  });

  test('Terraform outputs are the same with or without the new details', () => {
    const before = contract().outputs();
    const after = contract({ elastisysConfigMap: { namespaces: ['shop'] }, passwordSecret: { name: 'pw', namespaces: ['shop'] } }, { tls: true, tlsCaSecretName: 'sessions-tls', sentinelAuth: true }).outputs();
    expect(after).toEqual(before);
    expect(Object.keys(after).sort()).toEqual(['cluster_name', 'master_name', 'sentinel_host', 'sentinel_pod_hosts', 'sentinel_port', 'url'].map((k) => `redis_cache_sessions_${k}`));
  });

  test('construct ids count namespaces (tokens work), and the stack registry refuses a name already taken', () => {
    const c = new ConnectionContract(emptyStack(), 'C', { details, elastisysConfigMap: { namespaces: ['shop', 'billing'] }, passwordSecret: { name: 'pw' } });
    expect(c.passwordSecrets.map((s) => s.node.id)).toEqual(['PasswordSecret', 'PasswordSecret2']);
    const s = emptyStack();
    expect(() => new ConnectionContract(s, 'C', { details, threeScaleSecret: { name: 'system-redis', namespaces: ['shop'] }, passwordSecret: { name: 'system-redis', namespaces: ['shop'] } }))
      .toThrow(DuplicateObjectError);
    const s2 = emptyStack();
    new SentinelRedis(s2, 'Sessions', { namespace: 'cache', storage: DataStorage.ephemeral() });
    expect(() => new ConnectionContract(s2, 'Copy', { details, outputPrefix: 'copy', elastisysConfigMap: false, passwordSecret: { name: 'sessions-auth' } }))
      .toThrow('test/Copy: Secret "cache/sessions-auth" is already created by test/Sessions');
  });
});

describe('validation: messages, also for JavaScript callers', () => {
  test.each<[string, unknown, string]>([
    ['bad name', { passwordSecret: { name: 'Sessions_Password' } }, 'test/C: invalid prop "passwordSecret.name" = "Sessions_Password"; allowed: a Secret name (DNS-1123 subdomain)'],
    ['missing name', { passwordSecret: {} }, 'test/C: invalid prop "passwordSecret.name" = undefined; allowed: a Secret name (DNS-1123 subdomain) (required)'],
    ['name not a string', { passwordSecret: { name: 42 } }, 'invalid prop "passwordSecret.name" = 42'],
    ['not an object', { passwordSecret: 'pw' }, 'test/C: invalid prop "passwordSecret" = "pw"; allowed: password Secret options { name, namespaces? }'],
    ['bad namespace', { passwordSecret: { name: 'pw', namespaces: ['Shop'] } }, 'invalid prop "passwordSecret.namespaces[0]" = "Shop"; allowed: a namespace name'],
    ['empty namespaces', { passwordSecret: { name: 'pw', namespaces: [] } }, 'invalid prop "passwordSecret.namespaces" = []; allowed: a non-empty list of namespace names'],
    ['duplicate namespaces', { passwordSecret: { name: 'pw', namespaces: ['shop', 'shop'] } }, 'invalid prop "passwordSecret.namespaces[1]" = "shop"; allowed: a namespace not already in the list'],
    ['namespaces not a list', { passwordSecret: { name: 'pw', namespaces: 'shop' } }, 'invalid prop "passwordSecret.namespaces" = "shop"; allowed: a non-empty list of namespace names'],
  ])('%s', (_what, over, message) => {
    expect(messageFor({ details, ...(over as object) })).toContain(message);
  });

  test('no password known to Terraform (RedisAuth.fromExistingSecret): refused, saying what to do instead', () => {
    expect(messageFor({ details: { ...details, password: undefined }, passwordSecret: { name: 'pw', namespaces: ['shop'] } })).toBe(
      'test/C: invalid prop "passwordSecret" = {"name":"pw","namespaces":["shop"]}; allowed: only with a password Terraform knows (details.password; a SentinelRedis with RedisAuth.generated()): '
      + 'with RedisAuth.fromExistingSecret the password is in your Secret, which Terraform never reads; copy that Secret into the application namespaces yourself');
  });

  test('every problem at once', () => {
    const m = messageFor({ details: { ...details, password: undefined }, passwordSecret: { name: 'Bad', namespaces: ['Shop'] } });
    expect(m.split('\n').map((l) => /invalid prop "([^"]+)"/.exec(l)?.[1])).toEqual(['passwordSecret.name', 'passwordSecret.namespaces[0]', 'passwordSecret']);
  });

  test('TLS details', () => {
    expect(messageFor({ details: { ...details, tls: true } })).toContain(
      'test/C: invalid prop "details.tlsCaSecretName" = undefined; allowed: the Secret whose ca.crt signs the topology\'s certificates, or details.tlsCaCertificatePem, when details.tls is true: clients need the CA');
    expect(messageFor({ details: { ...details, tls: 'yes', tlsCaSecretName: 'x' } })).toContain('invalid prop "details.tls" = "yes"; allowed: true or false');
    expect(messageFor({ details: { ...details, tls: true, tlsCaSecretName: 'Sessions TLS' } })).toContain('invalid prop "details.tlsCaSecretName" = "Sessions TLS"; allowed: a Secret name');
    expect(messageFor({ details: { ...details, tls: true, tlsCaCertificatePem: 'not a pem' } })).toContain('invalid prop "details.tlsCaCertificatePem" = "not a pem"; allowed: a PEM certificate');
    expect(messageFor({ details: { ...details, sentinelAuth: 'true' } })).toContain('invalid prop "details.sentinelAuth" = "true"; allowed: true or false');
  });

  test('without props or details: the message, never a TypeError', () => {
    expect(messageFor(undefined)).toBe('test/C: invalid prop "props" = undefined; allowed: a ConnectionContractProps object (required)');
    expect(messageFor({})).toBe('test/C: invalid prop "details" = undefined; allowed: the topology\'s SentinelConnectionDetails (required)');
  });
});
