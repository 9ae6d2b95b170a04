import { Construct } from 'constructs';
import {
  AccessClient, AccessEgress, AccessGrant, AccessPolicy, AccessPolicyProps, LABEL_KEY_ALLOWED, LABEL_VALUE_ALLOWED,
  NAMESPACE_ALLOWED, RedisTopologyValidationError,
} from '../../lib';
import { TerraformVariable, Token } from '../../lib/core/cdktf';
import { emptyStack, NP, synth } from '../helpers';

const base: AccessPolicyProps = {
  namespace: 'cache',
  name: 'sessions',
  podSelector: { 'app.kubernetes.io/instance': 'sessions' },
  clientPorts: [6379, 26379],
  peerPorts: [6379, 26379],
};
const PORT = 'a port from 1 to 65535';
const CLIENTS = 'AccessClient.pods(), AccessClient.namespace(), AccessClient.ipBlock()';

/** The message of the validation error `build` throws, one violation per line. */
function messages(build: (scope: Construct) => void): string[] {
  try {
    build(emptyStack());
  } catch (e) {
    if (e instanceof RedisTopologyValidationError) return e.message.split('\n');
    throw e;
  }
  throw new Error('no validation error');
}

const policy = (over: Record<string, unknown>) => (s: Construct) => new AccessPolicy(s, 'A', { ...base, ...over } as AccessPolicyProps);

describe('AccessPolicy validation', () => {
  describe('namespaces, wherever they appear', () => {
    test('metrics namespace: the exact message', () => {
      expect(() => {
        const cache = new Construct(emptyStack(), 'Cache');
        new AccessPolicy(cache, 'Access', { ...base, metricsPorts: [9121], metrics: { namespace: 'Monitoring NS' } });
      }).toThrow('test/Cache/Access: invalid prop "metrics.namespace" = "Monitoring NS"; allowed: a namespace name: a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters)');
    });

    test.each<[string, Record<string, unknown>]>([
      ['namespace', { namespace: 'Bad_NS' }],
      ['clients[1].namespace', { clients: [AccessClient.namespace('shop'), AccessClient.namespace('Bad_NS')] }],
      ['egress[0].namespace', { egress: [AccessEgress.toNamespace('Bad_NS', [443])] }],
      ['accessLabel.namespaces[0]', { accessLabel: { namespaces: ['Bad_NS'] } }],
      ['dns.namespace', { dns: { namespace: 'Bad_NS' } }],
      ['metrics.namespace', { metrics: { namespace: 'Bad_NS' } }],
    ])('%s', (prop, over) => {
      expect(messages(policy(over))).toEqual([`test/A: invalid prop "${prop}" = "Bad_NS"; allowed: ${NAMESPACE_ALLOWED}`]);
    });

    test('access label namespaces: a non-empty list without duplicates', () => {
      expect(messages(policy({ accessLabel: { namespaces: [] } })))
        .toEqual(['test/A: invalid prop "accessLabel.namespaces" = []; allowed: a non-empty list of namespace names']);
      expect(messages(policy({ accessLabel: { namespaces: ['shop', 'shop'] } })))
        .toEqual(['test/A: invalid prop "accessLabel.namespaces[1]" = "shop"; allowed: a namespace not already in the list']);
    });
  });

  describe('label selectors', () => {
    test.each<[string, Record<string, unknown>]>([
      ['podSelector', { podSelector: { 'bad key!': 'x' } }],
      ['clients[0].podLabels', { clients: [AccessClient.pods({ 'bad key!': 'x' })] }],
      ['clients[0].namespaceLabels', { clients: [AccessClient.pods({ app: 'x' }, { namespaceLabels: { 'bad key!': 'x' } })] }],
      ['clients[0].podLabels', { clients: [AccessClient.namespace('shop', { 'bad key!': 'x' })] }],
      ['metrics.podLabels', { metrics: { podLabels: { 'bad key!': 'x' } } }],
      ['egress[0].podLabels', { egress: [AccessEgress.toNamespace('shop', [443], { 'bad key!': 'x' })] }],
      ['accessLabel.namespaceLabels', { accessLabel: { namespaceLabels: { 'bad key!': 'x' } } }],
      ['dns.podLabels', { dns: { podLabels: { 'bad key!': 'x' } } }],
    ])('keys: %s', (prop, over) => {
      expect(messages(policy(over))).toEqual([`test/A: invalid prop "${prop} key" = "bad key!"; allowed: ${LABEL_KEY_ALLOWED}`]);
    });

    test('values', () => {
      expect(messages(policy({ podSelector: { app: 'not valid' }, accessLabel: { namespaceLabels: { team: '-x' } } }))).toEqual([
        `test/A: invalid prop "podSelector["app"]" = "not valid"; allowed: ${LABEL_VALUE_ALLOWED}`,
        `test/A: invalid prop "accessLabel.namespaceLabels["team"]" = "-x"; allowed: ${LABEL_VALUE_ALLOWED}`,
      ]);
    });

    test('selectors that would select everything are refused', () => {
      expect(messages(policy({
        podSelector: {},
        clients: [AccessClient.pods({}), AccessClient.pods({ app: 'x' }, { namespaceLabels: {} })],
        accessLabel: { namespaceLabels: {} },
      }))).toEqual([
        'test/A: invalid prop "podSelector" = {}; allowed: at least one label (an empty selector selects every pod of the namespace)',
        'test/A: invalid prop "clients[0].podLabels" = {}; allowed: at least one label (an empty selector would admit every pod; use AccessClient.namespace for a whole namespace)',
        'test/A: invalid prop "clients[1].namespaceLabels" = {}; allowed: at least one label (an empty namespace selector would admit every namespace)',
        'test/A: invalid prop "accessLabel.namespaceLabels" = {}; allowed: at least one label (an empty namespace selector would admit every namespace; say anyNamespace: true if that is meant)',
      ]);
    });
  });

  describe('ports', () => {
    test('each port an integer from 1 to 65535, each list where it belongs', () => {
      expect(messages(policy({
        clientPorts: [0, 6379],
        peerPorts: [1.5],
        metricsPorts: [65536],
        egress: [AccessEgress.toCidr('10.0.0.0/8', [-1]), AccessEgress.toCidr('10.0.0.0/8', [])],
      }))).toEqual([
        `test/A: invalid prop "clientPorts[0]" = 0; allowed: ${PORT}`,
        `test/A: invalid prop "peerPorts[0]" = 1.5; allowed: ${PORT}`,
        `test/A: invalid prop "metricsPorts[0]" = 65536; allowed: ${PORT}`,
        `test/A: invalid prop "egress[0].ports[0]" = -1; allowed: ${PORT}`,
        'test/A: invalid prop "egress[1].ports" = []; allowed: a non-empty list of ports from 1 to 65535',
      ]);
    });

    test('strings and NaN from JavaScript', () => {
      expect(messages(policy({ clientPorts: ['6379', NaN] }))).toEqual([
        `test/A: invalid prop "clientPorts[0]" = "6379"; allowed: ${PORT}`,
        `test/A: invalid prop "clientPorts[1]" = NaN; allowed: ${PORT}`,
      ]);
      expect(messages(policy({ clientPorts: 6379 })))
        .toEqual(['test/A: invalid prop "clientPorts" = 6379; allowed: a non-empty list of ports from 1 to 65535']);
    });

    test('a grant opens only the target\'s client ports', () => {
      expect(messages((s) => new AccessGrant(s, 'G', { target: base, clients: [AccessClient.namespace('x')], ports: [6379, 22, 0] }))).toEqual([
        `test/G: invalid prop "ports[2]" = 0; allowed: ${PORT}`,
        'test/G: invalid prop "ports[1]" = 22; allowed: a port of the target\'s client ports (6379, 26379)',
      ]);
    });
  });

  describe('CIDRs', () => {
    test('client sources inside RFC 1918, exceptions inside the block, egress any IPv4 CIDR', () => {
      expect(messages(policy({
        clients: [AccessClient.ipBlock('8.8.8.0/24'), AccessClient.ipBlock('10.1.0.0/16', ['10.1.2.0/24', '10.2.0.0/24', 'x'])],
        egress: [AccessEgress.toCidr('1.2.3.4/8', [443]), AccessEgress.toCidr('203.0.113.0/24', [443])],
      }))).toEqual([
        'test/A: invalid prop "clients[0].cidr" = "8.8.8.0/24"; allowed: an IPv4 CIDR inside RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)',
        'test/A: invalid prop "clients[1].except[1]" = "10.2.0.0/24"; allowed: an IPv4 CIDR inside 10.1.0.0/16',
        'test/A: invalid prop "clients[1].except[2]" = "x"; allowed: an IPv4 CIDR inside 10.1.0.0/16',
        'test/A: invalid prop "egress[0].cidr" = "1.2.3.4/8"; allowed: an IPv4 CIDR such as 10.0.0.0/16',
      ]);
    });
  });

  describe('names and the label prefix', () => {
    test('name: a DNS label, at most 50 characters while the access label is on', () => {
      expect(messages(policy({ name: 'Sessions' })))
        .toEqual(['test/A: invalid prop "name" = "Sessions"; allowed: a DNS-1123 label of at most 50 characters (the access label key "<prefix>/redis-<name>-access" has at most 63 characters after the "/")']);
      const long = 'a'.repeat(51);
      expect(messages(policy({ name: long }))).toHaveLength(1);
      expect(() => synth((s) => new AccessPolicy(s, 'A', { ...base, name: long, accessLabel: false }))).not.toThrow();
      expect(messages(policy({ name: 'a'.repeat(64), accessLabel: false })))
        .toEqual([`test/A: invalid prop "name" = "${'a'.repeat(64)}"; allowed: a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters)`]);
    });

    test('prefix: a DNS subdomain', () => {
      expect(messages(policy({ accessLabel: { prefix: 'Elastisys.io/' } })))
        .toEqual(['test/A: invalid prop "accessLabel.prefix" = "Elastisys.io/"; allowed: a DNS-1123 subdomain such as redis-topologies.io or elastisys.io (the part of the access label key before the "/")']);
    });

    test('access label options: an object or false, known keys, anyNamespace alone', () => {
      expect(messages(policy({ accessLabel: true })))
        .toEqual(['test/A: invalid prop "accessLabel" = true; allowed: false, or options { prefix?, namespaces?, namespaceLabels?, anyNamespace? }']);
      expect(messages(policy({ accessLabel: { namespace: 'shop', anyNamespace: 'yes' } }))).toEqual([
        'test/A: invalid prop "accessLabel.namespace" = "shop"; allowed: no such option (the options are prefix, namespaces, namespaceLabels, anyNamespace)',
        'test/A: invalid prop "accessLabel.anyNamespace" = "yes"; allowed: true or false',
      ]);
      expect(messages(policy({ accessLabel: { anyNamespace: true, namespaces: ['shop'], namespaceLabels: { team: 'a' } } }))).toEqual([
        'test/A: invalid prop "accessLabel.namespaces" = ["shop"]; allowed: not set together with anyNamespace: true, which already admits labelled pods of every namespace',
        'test/A: invalid prop "accessLabel.namespaceLabels" = {"team":"a"}; allowed: not set together with anyNamespace: true, which already admits labelled pods of every namespace',
      ]);
    });
  });

  test('every problem of one construct at once', () => {
    const found = messages(policy({
      namespace: 'Bad_NS', name: 'Bad', clientPorts: [], podSelector: {},
      metrics: { namespace: 'Monitoring NS' }, dns: { namespace: 'X' }, accessLabel: { namespaces: ['Y'] },
    }));
    expect(found.map((m) => /invalid prop "([^"]+)"/.exec(m)![1])).toEqual([
      'namespace', 'name', 'podSelector', 'clientPorts', 'metrics.namespace', 'dns.namespace', 'accessLabel.namespaces[0]',
    ]);
  });

  describe('enum-like classes', () => {
    test('look-alike objects and strings are refused, naming the factories', () => {
      const fakeClient = { _peer: () => ({ namespaceSelector: {} }), _validate: () => undefined, _namespace: undefined };
      expect(messages(policy({ clients: [fakeClient as any, 'shop', null], egress: [{ ports: [443] } as any] }))).toEqual([
        `test/A: invalid prop "clients[0]" = {}; allowed: one of ${CLIENTS}`,
        `test/A: invalid prop "clients[1]" = "shop"; allowed: one of ${CLIENTS}`,
        `test/A: invalid prop "clients[2]" = null; allowed: one of ${CLIENTS}`,
        'test/A: invalid prop "egress[0]" = {"ports":[443]}; allowed: one of AccessEgress.toCidr(), AccessEgress.toNamespace()',
      ]);
      expect(messages((s) => new AccessGrant(s, 'G', { target: base, clients: [{ _peer: {} } as any] })))
        .toEqual([`test/G: invalid prop "clients[0]" = {"_peer":{}}; allowed: one of ${CLIENTS}`]);
    });

    test('an object literal does not type-check as an option class', () => {
      // @ts-expect-error AccessClient is nominal: private constructor and private members
      const client: AccessClient = { _peer: () => ({}), _validate: () => undefined, _namespace: undefined };
      // @ts-expect-error AccessEgress is nominal too
      const egress: AccessEgress = { ports: [443], _peer: () => ({}), _validate: () => undefined };
      expect([client, egress]).toHaveLength(2);
    });

    test('instances say how they were made', () => {
      expect(String(AccessClient.namespace('shop', { app: 'web' }))).toBe('AccessClient.namespace("shop", {"app":"web"})');
      expect(String(AccessClient.pods({ app: 'x' }, { namespaceLabels: { team: 'a' } }))).toBe('AccessClient.pods({"app":"x"}, {"namespaceLabels":{"team":"a"}})');
      expect(String(AccessClient.ipBlock('10.0.0.0/8'))).toBe('AccessClient.ipBlock("10.0.0.0/8")');
      expect(String(AccessEgress.toCidr('10.0.0.0/8', [443]))).toBe('AccessEgress.toCidr("10.0.0.0/8", [443])');
    });
  });

  describe('plain JavaScript callers', () => {
    test('AccessPolicy without its required props: messages, not a TypeError', () => {
      const required = [
        'test/A: invalid prop "namespace" = undefined; allowed: a namespace name: a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters) (required)',
        'test/A: invalid prop "name" = undefined; allowed: a DNS-1123 label of at most 50 characters (the access label key "<prefix>/redis-<name>-access" has at most 63 characters after the "/") (required)',
        'test/A: invalid prop "podSelector" = undefined; allowed: a map of label keys to label values with at least one label (required)',
        'test/A: invalid prop "clientPorts" = undefined; allowed: a non-empty list of ports from 1 to 65535 (required)',
        'test/A: invalid prop "peerPorts" = undefined; allowed: a list of ports from 1 to 65535 (required)',
      ];
      expect(messages((s) => new (AccessPolicy as any)(s, 'A', {}))).toEqual(required);
      expect(messages((s) => new (AccessPolicy as any)(s, 'A'))).toEqual(required);
      const { peerPorts: _omitted, ...withoutPeers } = base;
      expect(messages((s) => new (AccessPolicy as any)(s, 'A', withoutPeers)))
        .toEqual(['test/A: invalid prop "peerPorts" = undefined; allowed: a list of ports from 1 to 65535 (required)']);
    });

    test('AccessGrant without target or clients, or with a partial target', () => {
      expect(messages((s) => new (AccessGrant as any)(s, 'G', {}))).toEqual([
        'test/G: invalid prop "target" = undefined; allowed: an AccessTarget { namespace, name, podSelector, clientPorts } (a topology\'s accessTarget) (required)',
        `test/G: invalid prop "clients" = undefined; allowed: a list of values made by ${CLIENTS} (required)`,
      ]);
      expect(messages((s) => new (AccessGrant as any)(s, 'G', { target: { name: 'sessions' }, clients: [] }))).toEqual([
        'test/G: invalid prop "target.namespace" = undefined; allowed: a namespace name: a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters) (required)',
        'test/G: invalid prop "target.podSelector" = undefined; allowed: a map of label keys to label values with at least one label (required)',
        'test/G: invalid prop "target.clientPorts" = undefined; allowed: a non-empty list of ports from 1 to 65535 (required)',
        `test/G: invalid prop "clients" = []; allowed: at least one of ${CLIENTS}`,
      ]);
    });

    test('factories called without arguments', () => {
      expect(messages(policy({ clients: [(AccessClient.pods as any)(), (AccessClient.namespace as any)(), (AccessClient.ipBlock as any)()], egress: [(AccessEgress.toCidr as any)()] }))).toEqual([
        'test/A: invalid prop "clients[0].podLabels" = undefined; allowed: a map of label keys to label values with at least one label (required)',
        `test/A: invalid prop "clients[1].namespace" = undefined; allowed: ${NAMESPACE_ALLOWED} (required)`,
        'test/A: invalid prop "clients[2].cidr" = undefined; allowed: an IPv4 CIDR inside RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) (required)',
        'test/A: invalid prop "egress[0].cidr" = undefined; allowed: an IPv4 CIDR such as 10.0.0.0/16 (required)',
        'test/A: invalid prop "egress[0].ports" = undefined; allowed: a non-empty list of ports from 1 to 65535 (required)',
      ]);
    });
  });

  describe('Terraform tokens', () => {
    test('a namespace from a TerraformVariable synthesizes everywhere a namespace goes', () => {
      const out = synth((s) => {
        const ns = new TerraformVariable(s, 'namespace', { type: 'string' }).stringValue;
        const p = new AccessPolicy(s, 'Access', {
          ...base,
          namespace: ns,
          clients: [AccessClient.namespace(ns)],
          metricsPorts: [9121],
          metrics: { namespace: ns },
          dns: { namespace: ns },
          egress: [AccessEgress.toNamespace(ns, [443])],
          accessLabel: { namespaces: [ns] },
        });
        p.allow('Billing', [AccessClient.namespace(ns)]);
        new AccessGrant(s, 'Reports', { target: { ...base, namespace: ns }, clients: [AccessClient.namespace(ns)] });
      });
      const policies = out.list(NP);
      expect(policies).toHaveLength(8);
      for (const policy of policies) expect(policy.metadata.namespace).toBe('${var.namespace}');
      const byName = { match_labels: { 'kubernetes.io/metadata.name': '${var.namespace}' } };
      expect(out.named(NP, 'sessions-allow-metrics').spec.ingress[0].from).toEqual([{ namespace_selector: byName }]);
      expect(out.named(NP, 'sessions-allow-dns').spec.egress[0].to[0].namespace_selector).toEqual(byName);
      expect(out.named(NP, 'sessions-allow-egress').spec.egress[0].to).toEqual([{ namespace_selector: byName }]);
      expect(out.named(NP, 'sessions-allow-billing').spec.ingress[0].from).toEqual([{ namespace_selector: byName }]);
    });

    test('names, ports and labels from variables pass to Kubernetes unchecked', () => {
      const out = synth((s) => {
        const name = new TerraformVariable(s, 'name', { type: 'string' }).stringValue;
        const port = new TerraformVariable(s, 'port', { type: 'number' }).numberValue;
        const team = new TerraformVariable(s, 'team', { type: 'string' }).stringValue;
        new AccessPolicy(s, 'Access', { ...base, name, clientPorts: [port], podSelector: { app: team }, accessLabel: { prefix: team } });
      });
      const clients = out.list(NP).find((p) => p.metadata.name === '${var.name}-allow-clients');
      expect(clients.spec.ingress[0].ports).toEqual([{ port: '${var.port}', protocol: 'TCP' }]);
      expect(clients.spec.pod_selector.match_labels).toEqual({ app: '${var.team}' });
      expect(clients.spec.ingress[0].from).toEqual([{ pod_selector: { match_labels: { '${var.team}/redis-${var.name}-access': 'allow' } } }]);
    });

    test('a whole port list from a variable is refused: each port is written out', () => {
      const [message] = messages((s) => {
        const ports = Token.asNumberList(new TerraformVariable(s, 'ports', { type: 'list(number)' }).value);
        new AccessPolicy(s, 'A', { ...base, clientPorts: ports });
      });
      expect(message).toMatch(/^test\/A: invalid prop "clientPorts" = .*; allowed: a literal value, not a Terraform token: the policy lists each port/);
    });
  });
});
