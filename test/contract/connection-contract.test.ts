import { ConnectionContract, SentinelConnectionDetails, SentinelRole, threeScaleSentinelHosts, threeScaleUrl } from '../../lib';
import { TerraformVariable } from '../../lib/core/cdktf';
import { emptyStack, synth } from '../helpers';

const details: SentinelConnectionDetails = {
  clusterName: 'sessions',
  namespace: 'cache',
  masterName: 'mymaster',
  sentinelServiceHost: 'sessions-sentinel.cache',
  sentinelPort: 26379,
  sentinelPodHosts: ['sessions-sentinel-0.sessions-sentinel-headless.cache.svc.cluster.local', 'sessions-sentinel-1.sessions-sentinel-headless.cache.svc.cluster.local'],
  password: 's3cret',
};

describe('3scale formats', () => {
  test('URL names the sentinel group, with optional password and db', () => {
    expect(threeScaleUrl('mymaster')).toBe('redis://mymaster');
    expect(threeScaleUrl('mymaster', 'pw', 1)).toBe('redis://:pw@mymaster/1');
  });
  test('SENTINEL_HOSTS is comma-separated redis:// URLs', () => {
    expect(threeScaleSentinelHosts(['a', 'b'], 26379, 'pw')).toBe('redis://:pw@a:26379,redis://:pw@b:26379');
  });
});

describe('ConnectionContract', () => {
  test('snapshot', () => {
    const out = synth((s) => new ConnectionContract(s, 'Contract', { details, threeScaleSecret: { name: 'system-redis', database: 1 } }));
    expect({ cm: out.resources('kubernetes_config_map_v1'), secret: out.resources('kubernetes_secret_v1'), outputs: out.outputs() }).toMatchSnapshot();
  });

  test('Elastisys ConfigMap with the port as a string, into app namespaces, no secrets', () => {
    const out = synth((s) => new ConnectionContract(s, 'Contract', { details, elastisysConfigMap: { name: 'app-redis-config', namespaces: ['shop', 'billing'] } }));
    for (const ns of ['shop', 'billing']) {
      const cm = out.named('kubernetes_config_map_v1', 'app-redis-config', ns);
      expect(cm.data).toEqual({
        REDIS_CLUSTER_NAME: 'sessions', REDIS_SENTINEL_HOST: 'sessions-sentinel.cache', REDIS_SENTINEL_PORT: '26379',
        REDIS_SENTINEL_MASTER_NAME: 'mymaster', REDIS_SENTINEL_AUTH: 'true', REDIS_TLS: 'false',
      });
    }
    expect(JSON.stringify(out.resources('kubernetes_config_map_v1'))).not.toContain('s3cret');
    expect(out.list('kubernetes_secret_v1')).toHaveLength(0);
  });

  test('3scale Secret: URL, SENTINEL_HOSTS, SENTINEL_ROLE', () => {
    const out = synth((s) => new ConnectionContract(s, 'Contract', { details, threeScaleSecret: { name: 'backend-redis', role: SentinelRole.SLAVE, namespaces: ['3scale'] } }));
    const secret = out.named('kubernetes_secret_v1', 'backend-redis', '3scale');
    expect(secret.data.URL).toBe('redis://:s3cret@mymaster');
    expect(secret.data.SENTINEL_ROLE).toBe('slave');
    expect(secret.data.SENTINEL_HOSTS.split(',')).toHaveLength(2);
    expect(secret.data.SENTINEL_HOSTS).toMatch(/^redis:\/\/:s3cret@sessions-sentinel-0\.sessions-sentinel-headless\.cache\.svc\.cluster\.local:26379,/);
  });

  test('outputs: secrets only in sensitive outputs', () => {
    const out = synth((s) => new ConnectionContract(s, 'Contract', { details }));
    const outputs = out.outputs();
    expect(outputs.redis_cache_sessions_sentinel_port.value).toBe(26379);
    expect(outputs.redis_cache_sessions_url.sensitive).toBe(true);
    for (const [key, o] of Object.entries<any>(outputs)) {
      if (JSON.stringify(o.value).includes('s3cret')) expect([key, o.sensitive]).toEqual([key, true]);
    }
  });

  test('a password from a Terraform token stays a reference', () => {
    const out = synth((s) => {
      const pw = new TerraformVariable(s, 'redis_password', { type: 'string', sensitive: true });
      new ConnectionContract(s, 'Contract', { details: { ...details, password: pw.stringValue }, threeScaleSecret: {} });
    });
    expect(out.named('kubernetes_secret_v1', 'sessions-redis').data.URL).toBe('redis://:${var.redis_password}@mymaster');
  });

  test.each<[object, string]>([
    [{ elastisysConfigMap: { namespaces: [] } }, 'invalid prop "elastisysConfigMap.namespaces" = []'],
    [{ threeScaleSecret: { database: 16 } }, 'invalid prop "threeScaleSecret.database" = 16; allowed: an integer from 0 to 15'],
    [{ outputPrefix: '1x' }, 'invalid prop "outputPrefix" = "1x"'],
  ])('rejects bad props (%#)', (over, message) => {
    expect(() => new ConnectionContract(emptyStack(), 'C', { details, ...over })).toThrow(`test/C: ${message}`);
  });

  test('a 3scale Secret needs a password', () => {
    expect(() => new ConnectionContract(emptyStack(), 'C', { details: { ...details, password: undefined }, threeScaleSecret: {} }))
      .toThrow('test/C: invalid prop "threeScaleSecret" = "no password"');
  });
});
