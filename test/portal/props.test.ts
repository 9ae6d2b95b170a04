import {
  CertManagerIssuer, DataStorage, HaproxyPortal, HaproxyPortalProps, PortalCertificates, PortalServiceType, SentinelRedis, TlsVersion,
} from '../../lib';
import { TerraformVariable } from '../../lib/core/cdktf';
import { DEPLOY, emptyStack, NP, synth } from '../helpers';

/** The message HaproxyPortal `Portal` throws for these props (or '' when it builds). */
function messageFor(over: Record<string, unknown>): string {
  const s = emptyStack();
  const backend = new SentinelRedis(s, 'Cache', { namespace: 'data', storage: DataStorage.ephemeral() });
  try {
    new HaproxyPortal(s, 'Portal', { backend, ...over } as HaproxyPortalProps);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('HaproxyPortal props: every rule family has a message', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['image', { image: 'haproxy' }, 'test/Portal: invalid prop "image" = "haproxy"; allowed: an image reference with a tag or a digest'],
    ['memory', { memoryLimit: '128MB' }, 'invalid prop "memoryLimit" = "128MB"; allowed: a positive memory quantity'],
    ['cpu limit below request', { cpuRequest: '1', cpuLimit: '500m' }, 'invalid prop "cpuLimit" = "500m"; allowed: at least cpuRequest (1)'],
    ['port clash', { port: 8404 }, 'invalid prop "port" = 8404; allowed: a port not already used by the metrics port in the same pod'],
    ['privileged port', { port: 443 }, 'invalid prop "port" = 443; allowed: an unprivileged port from 1024 to 65535'],
    ['DNS names', { extraDnsNames: ['redis..example.com'] }, 'invalid prop "extraDnsNames[0]" = "redis..example.com"; allowed: a DNS name'],
    ['tolerations', { tolerations: [{ key: 'a b' }] }, 'invalid prop "tolerations[0].key" = "a b"; allowed: a label key'],
    ['durations', { certificates: PortalCertificates.certManager({ issuer: CertManagerIssuer.clusterIssuer('ca'), duration: '90d' }) }, 'invalid prop "certificates.duration" = "90d"; allowed: a positive Go duration such as 2160h or 1h30m'],
    ['renewBefore not shorter', { certificates: PortalCertificates.certManager({ issuer: CertManagerIssuer.clusterIssuer('ca'), duration: '24h', renewBefore: '48h' }) }, 'invalid prop "certificates.renewBefore" = "48h"; allowed: a duration shorter than certificates.duration (24h)'],
    ['cert-manager namespace', { certificates: PortalCertificates.certManager({ issuer: CertManagerIssuer.clusterIssuer('ca'), install: { namespace: 'Cert Manager' } }) }, 'invalid prop "certificates.install.namespace" = "Cert Manager"; allowed: a namespace name'],
    ['connection namespaces', { connection: { namespaces: ['Shop'] } }, 'invalid prop "connection.namespaces[0]" = "Shop"; allowed: a namespace name'],
  ])('%s', (_what, over, message) => {
    expect(messageFor(over)).toContain(message);
  });

  test('enum-like options: look-alikes are refused, naming the factories', () => {
    expect(messageFor({ minTlsVersion: { value: 'TLSv1.0' } })).toContain('invalid prop "minTlsVersion" = {"value":"TLSv1.0"}; allowed: one of TlsVersion.TLS1_2, TlsVersion.TLS1_3');
    expect(messageFor({ minTlsVersion: 'TLSv1.0' })).toContain('invalid prop "minTlsVersion" = "TLSv1.0"');
    expect(messageFor({ serviceType: { type: 'LoadBalancer', annotations: {}, sourceRanges: [] } })).toContain('allowed: one of PortalServiceType.clusterIp(), PortalServiceType.internalLoadBalancer(options)');
    expect(messageFor({ certificates: { kind: 'self-signed' } })).toContain('allowed: one of PortalCertificates.selfSigned()');
    expect(messageFor({ certificates: PortalCertificates.certManager({ issuer: { kind: 'ClusterIssuer', name: 'ca' } as unknown as CertManagerIssuer }) }))
      .toContain('invalid prop "certificates.issuer"');
    expect(messageFor({ minTlsVersion: TlsVersion.TLS1_3, serviceType: PortalServiceType.clusterIp() })).toBe('');
  });

  test('from JavaScript: a missing or wrong backend gives the message, never a TypeError', () => {
    const s = emptyStack();
    expect(() => new HaproxyPortal(s, 'P1', {} as HaproxyPortalProps)).toThrow(/test\/P1: invalid prop "backend" = undefined; allowed: a topology to route to .*\(required\)/);
    expect(() => new HaproxyPortal(s, 'P2', { backend: 'cache' } as unknown as HaproxyPortalProps)).toThrow(/invalid prop "backend" = "cache"/);
  });
});

describe('HaproxyPortal: connection details published into a namespace admit it', () => {
  test('the README usage example: shop gets the connection ConfigMap and may reach the portal on its TLS port', () => {
    const out = synth((stack) => {
      const sessions = new SentinelRedis(stack, 'Sessions', { namespace: 'redis-system', storage: DataStorage.ephemeral() });
      new HaproxyPortal(stack, 'SessionsPortal', { backend: sessions, connection: { namespaces: ['shop'] } });
    });
    const allow = out.named(NP, 'sessions-portal-allow-clients').spec;
    expect(allow.ingress[0].ports).toEqual([{ port: '6380', protocol: 'TCP' }]);
    expect(allow.ingress[0].from).toContainEqual(expect.objectContaining({ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'shop' } } }));
    expect(out.list('kubernetes_config_map_v1').filter((c) => c.metadata.name === 'sessions-portal-connection').map((c) => c.metadata.namespace).sort())
      .toEqual(['redis-system', 'shop']);
  });

  test('a token namespace synthesizes, and the portal Deployment mounts its TLS Secret by reference', () => {
    const out = synth((stack) => {
      const ns = new TerraformVariable(stack, 'ns', { type: 'string' }).stringValue;
      const redis = new SentinelRedis(stack, 'Cache', { namespace: ns, storage: DataStorage.ephemeral() });
      new HaproxyPortal(stack, 'Portal', { backend: redis });
    });
    const tls = out.named(DEPLOY, 'cache-portal').spec.template.spec.volume.find((v: any) => v.name === 'tls');
    expect(tls.secret.secret_name).toMatch(/^\$\{kubernetes_secret_v1\.\w+\.metadata\[0\]\.name\}$/);
  });
});
