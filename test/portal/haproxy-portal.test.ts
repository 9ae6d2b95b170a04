import { execFileSync } from 'child_process';
import {
  AccessClient, Availability, CertManagerIssuer, DataStorage, EncryptedStorageClass, HaproxyPortal, HaproxyPortalProps,
  PortalCertificates, PortalServiceType, RedisAuth, SentinelRedis, TlsVersion, renderPortalEntrypoint,
} from '../../lib';
import { DEPLOY, SVC, PDB, CM, SECRET, NP, emptyStack, synth, Synthed } from '../helpers';
import { Construct } from 'constructs';


function redis(scope: Construct, over: Record<string, unknown> = {}): SentinelRedis {
  const sc = EncryptedStorageClass.fromExisting(scope, 'Sc', { storageClassName: 'enc', vouchedBy: 'test' });
  return new SentinelRedis(scope, 'Cache', { namespace: 'data', storage: DataStorage.encrypted(sc, '5Gi'), ...over });
}

function build(over: Partial<HaproxyPortalProps> = {}, redisOver: Record<string, unknown> = {}): { out: Synthed; portal: HaproxyPortal } {
  let portal!: HaproxyPortal;
  const out = synth((s) => {
    portal = new HaproxyPortal(s, 'Portal', { backend: redis(s, redisOver), ...over });
  });
  return { out, portal };
}

function cfg(out: Synthed): string {
  return out.renderedData(CM, 'cache-portal-config')['haproxy.cfg'];
}

function portalSpec(out: Synthed): any {
  return out.named(DEPLOY, 'cache-portal').spec.template.spec;
}

describe('HaproxyPortal', () => {
  const { out, portal } = build();

  test('snapshot', () => {
    const r = out.json.resource;
    const portalOnly = Object.fromEntries(Object.entries(r).map(([type, byId]) => [type,
      Object.fromEntries(Object.entries(byId as Record<string, unknown>).filter(([id]) => id.startsWith('Portal')))]));
    expect(portalOnly).toMatchSnapshot();
  });

  test('two portals behind one ClusterIP Service on 6380, a PDB, spread over nodes and zones', () => {
    const d = out.named(DEPLOY, 'cache-portal');
    expect(d.spec.replicas).toBe('2');
    expect(d.spec.strategy.rolling_update).toEqual({ max_surge: '0', max_unavailable: '1' });
    const svc = out.named(SVC, 'cache-portal');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.port.map((p: any) => [p.name, p.port])).toEqual([['redis-tls', 6380], ['metrics', 8404]]);
    expect(svc.spec.selector).toEqual(d.spec.selector.match_labels);
    expect(out.named(PDB, 'cache-portal').spec.max_unavailable).toBe('1');
    const spec = portalSpec(out);
    expect(spec.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution[0].topology_key).toBe('kubernetes.io/hostname');
    expect(spec.topology_spread_constraint[0].topology_key).toBe('topology.kubernetes.io/zone');
    expect(portal.host).toBe('cache-portal.data.svc.cluster.local');
  });

  test('pod security "restricted": uid 99, no privilege escalation, all capabilities dropped, read-only root', () => {
    const spec = portalSpec(out);
    expect(spec.security_context).toMatchObject({ run_as_non_root: true, run_as_user: '99', seccomp_profile: { type: 'RuntimeDefault' } });
    expect(spec.automount_service_account_token).toBe(false);
    const c = spec.container[0];
    expect(c.security_context).toMatchObject({ allow_privilege_escalation: false, capabilities: { drop: ['ALL'] }, read_only_root_filesystem: true, run_as_user: '99' });
    expect(c.port.map((p: any) => p.container_port)).toEqual([6380, 8404]);
    expect(c.readiness_probe.tcp_socket).toEqual([{ port: 'redis-tls' }]);
    expect(c.liveness_probe.http_get).toEqual({ path: '/healthz', port: 'metrics' });
  });

  test('haproxy.cfg: TLS 1.2 minimum with modern ciphers, only role:master in rotation, 250ms/2/1 checks (100 ms while changing, 250 ms while down)', () => {
    const c = cfg(out);
    expect(c).toContain('bind :6380 ssl crt /run/redis-topologies/portal.pem ssl-min-ver TLSv1.2');
    // No client while the number of members in rotation is not exactly one (start-up, split brain).
    expect(c).toContain('tcp-request connection reject if !{ nbsrv(redis_primary) eq 1 }');
    expect(c).toContain('ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets');
    expect(c).not.toMatch(/ciphers.*(RC4|3DES|CBC|MD5|NULL)/);
    const checks = c.split('\n').filter((l) => l.includes('tcp-check')).map((l) => l.trim());
    expect(checks).toEqual([
      'option tcp-check',
      'tcp-check connect',
      'tcp-check send-binary "${REDIS_AUTH_HEX}"',
      'tcp-check expect string +OK',
      'tcp-check send "PING\\r\\n"',
      'tcp-check expect string +PONG',
      'tcp-check send "INFO replication\\r\\nQUIT\\r\\n"',
      'tcp-check expect string role:master',
    ]);
    expect(c).toMatch(/default-server check inter 250ms fastinter 100ms downinter 250ms fall 2 rise 1 on-marked-down shutdown-sessions resolvers cluster/);
    expect(c.match(/^ {4}server /gm)).toHaveLength(2);
    expect(c).toContain('server cache-0 cache-0.cache-headless.data.svc.cluster.local:6379');
    expect(c).toContain('http-request use-service prometheus-exporter if { path /metrics }');
    expect(c).not.toContain('stats enable');
  });

  test('haproxy.cfg resolvers: a moved member is followed within a check interval; a failing DNS keeps known addresses', () => {
    const c = cfg(out);
    const section = c.slice(c.indexOf('resolvers cluster'), c.indexOf('\ndefaults'));
    const directives = section.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(directives).toEqual([
      'resolvers cluster',
      'parse-resolv-conf',
      // Every name asked again each check interval (250 ms), a failed connect asks at once.
      'timeout resolve 250ms',
      'timeout retry 500ms',
      'resolve_retries 3',
      'hold valid 250ms',
      // An address gone from the answer is dropped at once (30 s held the portal on a dead address).
      'hold obsolete 0s',
      // No answer, REFUSED, SERVFAIL: the last known address stays, the checks decide.
      'hold timeout 1d',
      'hold refused 1d',
      'hold other 1d',
      'hold nx 1m',
    ]);
    // Every setting is explained in the file itself.
    for (const d of directives.slice(2)) {
      const at = section.split('\n').findIndex((l) => l.trim() === d);
      const above = section.split('\n').slice(0, at).reverse().find((l) => !/^ {4}(timeout|hold|resolve_retries) /.test(l));
      expect({ d, comment: /^ {4}# /.test(above ?? '') }).toEqual({ d, comment: true });
    }
    expect(c).toContain('default-server check inter 250ms fastinter 100ms downinter 250ms fall 2 rise 1 on-marked-down shutdown-sessions resolvers cluster resolve-prefer ipv4 init-addr libc,none');
    expect(c).not.toMatch(/hold (nx|timeout|refused|other|obsolete) 30s/);
  });

  test('haproxy.cfg resolvers follow the check interval, at most every second', () => {
    const resolve = (intervalMs: number) => {
      // The rendered file is all this needs: construct, no synthesis.
      const stack = emptyStack();
      const c = new HaproxyPortal(stack, 'Portal', { backend: redis(stack), healthCheck: { intervalMs } }).configFiles['haproxy.cfg'];
      return [/timeout resolve (\S+)/.exec(c)?.[1], /hold valid (\S+)/.exec(c)?.[1]];
    };
    expect(resolve(200)).toEqual(['200ms', '200ms']);
    expect(resolve(1000)).toEqual(['1000ms', '1000ms']);
    expect(resolve(5000)).toEqual(['1000ms', '1000ms']);
  });

  test('the password is never in the ConfigMap: the entrypoint reads it from the Secret', () => {
    const data = out.renderedData(CM, 'cache-portal-config');
    expect(JSON.stringify(data)).not.toContain('random_password');
    const auth = portalSpec(out).volume.find((v: any) => v.name === 'auth');
    expect(auth.secret.items).toEqual([{ key: 'password', path: 'password' }]);
    expect(auth.secret.secret_name).toMatch(/^\$\{kubernetes_secret_v1\.Cache_AuthSecret_[0-9A-F]+\.metadata\[0\]\.name\}$/);
  });

  test('the entrypoint turns any password into one RESP AUTH command', () => {
    const script = renderPortalEntrypoint(portal.model);
    const line = script.split('\n').find((l) => l.startsWith('REDIS_AUTH_HEX='))!;
    for (const pw of ['simple', 'sp ace "quote" \\back $dollar %percent']) {
      const hex = execFileSync('sh', ['-c', `pw="$1"; len=$(printf '%s' "$pw" | wc -c | tr -d ' '); ${line}; printf '%s' "$REDIS_AUTH_HEX"`, 'sh', pw], { encoding: 'utf8' });
      expect(Buffer.from(hex, 'hex').toString()).toBe(`*2\r\n$4\r\nAUTH\r\n$${Buffer.byteLength(pw)}\r\n${pw}\r\n`);
    }
  });

  test('the entrypoint reloads HAProxy gracefully when the mounted certificate changes', () => {
    const script = renderPortalEntrypoint(portal.model);
    expect(script).toContain('while [ ! -e "$STOPPING" ] && nap 30; do');
    expect(script).toContain('kill -USR2 "$hap"');
    expect(script).toContain('haproxy -W -db -f /etc/redis-topologies/config/haproxy.cfg &');
    expect(renderPortalEntrypoint({ ...portal.model, certificateReloadSeconds: 5 })).toContain('while [ ! -e "$STOPPING" ] && nap 5; do');
  });

  test('self-signed certificates by default: ECDSA keys, SANs of the Service, CA published', () => {
    const keys = out.list('tls_private_key');
    expect(keys.map((k) => [k.algorithm, k.ecdsa_curve])).toEqual([['ECDSA', 'P256'], ['ECDSA', 'P256']]);
    expect(out.list('tls_self_signed_cert')[0].is_ca_certificate).toBe(true);
    expect(out.list('tls_cert_request')[0].dns_names).toEqual(['cache-portal', 'cache-portal.data', 'cache-portal.data.svc', 'cache-portal.data.svc.cluster.local']);
    expect(out.list('tls_locally_signed_cert')[0].allowed_uses).toContain('server_auth');
    const secret = out.named(SECRET, 'cache-portal-tls');
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(out.named(CM, 'cache-portal-connection').data).toMatchObject({ REDIS_HOST: 'cache-portal.data.svc.cluster.local', REDIS_PORT: '6380', REDIS_TLS: 'true' });
    expect(out.named(CM, 'cache-portal-connection').data['ca.crt']).toMatch(/tls_self_signed_cert\..*\.cert_pem/);
    expect(Object.keys(out.outputs()).filter((k) => k.startsWith('redis_data_cache_portal'))).toEqual(
      ['redis_data_cache_portal_ca_pem', 'redis_data_cache_portal_host', 'redis_data_cache_portal_port', 'redis_data_cache_portal_tls']);
    expect(out.json.provider.tls).toBeDefined();
    // The certificate's hash rolls the pods when it is renewed.
    expect(out.named(DEPLOY, 'cache-portal').spec.template.metadata.annotations['redis-topologies.io/certificate-sha256']).toMatch(/sha256/);
  });

  test('network policies: deny by default, clients on 6380 only, egress to the data members on 6379, a grant on the data side', () => {
    const names = out.list(NP).map((p) => p.metadata.name).filter((n: string) => n.startsWith('cache-portal'));
    expect(names.sort()).toEqual(['cache-portal-allow-clients', 'cache-portal-allow-dns', 'cache-portal-allow-egress', 'cache-portal-default-deny']);
    expect(out.named(NP, 'cache-portal-default-deny').spec.policy_types).toEqual(['Ingress', 'Egress']);
    const clients = out.named(NP, 'cache-portal-allow-clients').spec.ingress[0];
    expect(clients.ports).toEqual([{ port: '6380', protocol: 'TCP' }]);
    expect(clients.from).toContainEqual({ pod_selector: { match_labels: { 'redis-topologies.io/redis-cache-portal-access': 'allow' } } });
    expect(clients.from).not.toContainEqual(expect.objectContaining({ namespace_selector: {} }));
    const egress = out.named(NP, 'cache-portal-allow-egress').spec.egress[0];
    expect(egress.ports).toEqual([{ port: '6379', protocol: 'TCP' }]);
    const grant = out.list(NP).find((p) => p.metadata.name === 'cache-allow-cache-portal');
    expect(grant.spec.ingress[0].ports).toEqual([{ port: '6379', protocol: 'TCP' }]);
    expect(grant.spec.ingress[0].from).toEqual([{ pod_selector: { match_labels: out.named(DEPLOY, 'cache-portal').spec.selector.match_labels } }]);
  });

  test('metrics scraping is admitted only when asked for', () => {
    const { out: withMetrics } = build({ metrics: {} });
    expect(withMetrics.named(NP, 'cache-portal-allow-metrics').spec.ingress[0].ports).toEqual([{ port: '8404', protocol: 'TCP' }]);
  });

  test('a changed config rolls the portals', () => {
    const before = out.named(DEPLOY, 'cache-portal').spec.template.metadata.annotations['redis-topologies.io/config-checksum'];
    const after = build({ healthCheck: { intervalMs: 1000 } }).out.named(DEPLOY, 'cache-portal').spec.template.metadata.annotations['redis-topologies.io/config-checksum'];
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(after).not.toBe(before);
  });

  test('same input, same output', () => {
    expect(JSON.stringify(build().out.json)).toBe(JSON.stringify(out.json));
  });
});

describe('HaproxyPortal options', () => {
  test('TLS 1.3 only, stats page, tuning', () => {
    const { out } = build({ minTlsVersion: TlsVersion.TLS1_3, statsPage: true, threads: 4, bufferSize: 32768, clientTimeoutSeconds: 60 });
    const c = cfg(out);
    expect(c).toContain('ssl-min-ver TLSv1.3');
    expect(c).toContain('stats enable');
    expect(c).toContain('nbthread 4');
    expect(c).toContain('tune.bufsize 32768');
    expect(c).toContain('timeout client 60s');
  });

  test('internal load balancer with private source ranges', () => {
    const { out } = build({ serviceType: PortalServiceType.internalLoadBalancer({ sourceRanges: ['10.20.0.0/16'] }) });
    const svc = out.named(SVC, 'cache-portal');
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.load_balancer_source_ranges).toEqual(['10.20.0.0/16']);
    expect(svc.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-internal']).toBe('true');
    expect(svc.metadata.annotations['networking.gke.io/load-balancer-type']).toBe('Internal');
    expect(svc.metadata.annotations['service.beta.kubernetes.io/azure-load-balancer-internal']).toBe('true');
  });

  test('cert-manager: a Certificate for the same SANs, optionally with cert-manager installed by Helm', () => {
    const { out } = build({ certificates: PortalCertificates.certManager({ issuer: CertManagerIssuer.clusterIssuer('internal-ca'), install: {} }) });
    const cert = out.list('kubernetes_manifest')[0];
    expect(cert.manifest.kind).toBe('Certificate');
    expect(cert.manifest.spec).toMatchObject({ secretName: 'cache-portal-tls', issuerRef: { kind: 'ClusterIssuer', name: 'internal-ca' } });
    expect(cert.manifest.spec.dnsNames).toContain('cache-portal.data.svc.cluster.local');
    const release = out.list('helm_release')[0];
    expect(release).toMatchObject({ chart: 'cert-manager', version: 'v1.16.2', namespace: 'cert-manager', create_namespace: true });
    expect(release.set).toEqual([{ name: 'crds.enabled', value: 'true' }]);
    expect(cert.depends_on).toEqual([expect.stringMatching(/^helm_release\./)]);
    expect(out.list('tls_private_key')).toHaveLength(0);
    expect(out.outputs().redis_data_cache_portal_ca_pem).toBeUndefined();
  });

  test('an existing Secret: mounted as is, no keys made', () => {
    const { out } = build({ certificates: PortalCertificates.existingSecret({ secretName: 'corp-tls', caCertificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' }) });
    expect(portalSpec(out).volume.find((v: any) => v.name === 'tls').secret.secret_name).toBe('corp-tls');
    expect(out.list('tls_private_key')).toHaveLength(0);
    expect(out.named(CM, 'cache-portal-connection').data['ca.crt']).toContain('BEGIN CERTIFICATE');
  });

  test('TLS to the data members when the topology has TLS on', () => {
    const { out } = build({}, { tlsSecretName: 'cache-tls' });
    const c = cfg(out);
    expect(c).toContain('tcp-check connect ssl');
    expect(c).toMatch(/ssl verify required ca-file \/etc\/redis-topologies\/backend-tls\/ca\.crt/);
    expect(c).toContain('verifyhost cache-0.cache-headless.data.svc.cluster.local');
    expect(portalSpec(out).volume.find((v: any) => v.name === 'backend-tls').secret.secret_name).toBe('cache-tls');
  });

  test('connection details published into application namespaces', () => {
    const { out } = build({ connection: { namespaces: ['shop'] }, clients: [AccessClient.namespace('shop')] });
    expect(out.named(CM, 'cache-portal-connection', 'shop').data.REDIS_PORT).toBe('6380');
  });

  test('an existing auth Secret is what the portal mounts', () => {
    const { out } = build({}, { auth: RedisAuth.fromExistingSecret({ secretName: 'corp-redis', passwordKey: 'pw' }) });
    expect(portalSpec(out).volume.find((v: any) => v.name === 'auth').secret).toMatchObject({ secret_name: 'corp-redis', items: [{ key: 'pw', path: 'pw' }] });
  });

  test('development: one portal allowed, flagged, no PDB', () => {
    const { out } = build({ availability: Availability.DEVELOPMENT, replicas: 1 });
    expect(out.named(DEPLOY, 'cache-portal').spec.replicas).toBe('1');
    expect(out.list(PDB).filter((p) => p.metadata.name === 'cache-portal')).toHaveLength(0);
  });
});

describe('HaproxyPortal validation', () => {
  function reject(over: Partial<HaproxyPortalProps>, message: RegExp): void {
    const stack = emptyStack();
    // An imported backend: these props are the portal's own, whatever the backend.
    const backend = SentinelRedis.fromAttributes(stack, 'Cache', { name: 'cache', namespace: 'data' });
    expect(() => new HaproxyPortal(stack, 'Portal', { backend, ...over })).toThrow(message);
  }

  test('one portal is a single point of failure unless it is a development setup', () => {
    reject({ replicas: 1 }, /test\/Portal: invalid prop "replicas" = 1; allowed: an integer from 2 to 20 \(one portal is a single point of failure/);
  });
  test('unprivileged ports only, not the metrics port', () => {
    reject({ port: 443 }, /invalid prop "port" = 443; allowed: an unprivileged port/);
    reject({ port: 8404 }, /invalid prop "port" = 8404/);
  });
  test('health check bounds', () => {
    reject({ healthCheck: { intervalMs: 10 } }, /invalid prop "healthCheck.intervalMs" = 10; allowed: an integer from 100 to 60000/);
    reject({ healthCheck: { fall: 0 } }, /invalid prop "healthCheck.fall" = 0/);
  });
  test('certificate reload interval', () => {
    reject({ certificateReloadSeconds: 1 }, /invalid prop "certificateReloadSeconds" = 1; allowed: an integer from 5 to 3600/);
  });
  test('load balancer source ranges must be private', () => {
    reject({ serviceType: PortalServiceType.internalLoadBalancer({ sourceRanges: ['8.8.8.0/24'] }) },
      /invalid prop "serviceType.sourceRanges\[0\]" = "8.8.8.0\/24"; allowed: a private IPv4 CIDR/);
  });
  test('certificate options', () => {
    reject({ certificates: PortalCertificates.selfSigned({ validityDays: 30, renewBeforeDays: 30 }) }, /invalid prop "certificates.renewBeforeDays" = 30; allowed: an integer from 1 to 29/);
    reject({ certificates: PortalCertificates.certManager({ issuer: CertManagerIssuer.issuer('ca'), duration: '90 days' }) }, /invalid prop "certificates.duration" = "90 days"/);
    reject({ certificates: PortalCertificates.existingSecret({ secretName: 'Bad_Name' }) }, /invalid prop "certificates.secretName" = "Bad_Name"/);
  });
  test('a backend with TLS needs its CA Secret', () => {
    const stack = emptyStack();
    const backend = SentinelRedis.fromAttributes(stack, 'Imported', { name: 'cache', namespace: 'data', tlsEnabled: true, tlsSecretName: 'cache-tls' });
    expect(() => new HaproxyPortal(stack, 'Ok', { backend })).not.toThrow();
    expect(() => new HaproxyPortal(stack, 'Bad', { backend: { ...backend, tlsSecretName: undefined } })).toThrow(/invalid prop "backend.tlsSecretName"/);
  });
  test('every problem is reported at once', () => {
    const stack = emptyStack();
    let message = '';
    try {
      new HaproxyPortal(stack, 'Portal', { backend: redis(stack), replicas: 1, port: 80, threads: 0 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/replicas/);
    expect(message).toMatch(/port/);
    expect(message).toMatch(/threads/);
  });
});
