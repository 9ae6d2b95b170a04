import { AccessClient, AccessPolicy, AccessPolicyProps } from '../../lib';
import { TerraformVariable } from '../../lib/core/cdktf';
import { NP, synth } from '../helpers';

// Which namespaces the access label admits pods from. Anyone who can label a pod in an admitted
// namespace gets in, so the default is the topology's own namespace plus the namespaces the props
// name anyway; every other namespace must be named or selected, or anyNamespace asked for.

const base: AccessPolicyProps = {
  namespace: 'cache',
  name: 'sessions',
  podSelector: { 'app.kubernetes.io/instance': 'sessions' },
  clientPorts: [6379],
  peerPorts: [],
};
const LABEL = { match_labels: { 'redis-topologies.io/redis-sessions-access': 'allow' } };
const inNamespace = (ns: string) => ({ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': ns } }, pod_selector: LABEL });

function from(props: Partial<AccessPolicyProps>): any[] {
  const out = synth((s) => new AccessPolicy(s, 'Access', { ...base, ...props }));
  return out.named(NP, 'sessions-allow-clients').spec.ingress[0].from;
}

/** The peers of the allow-clients policy that select pods by the access label. */
function labelled(props: Partial<AccessPolicyProps>): any[] {
  return from(props).filter((p) => p.pod_selector?.match_labels?.['redis-topologies.io/redis-sessions-access'] === 'allow');
}

describe('access label namespaces', () => {
  test('by default only the topology\'s own namespace: no namespace selector at all', () => {
    expect(labelled({})).toEqual([{ pod_selector: LABEL }]);
  });

  test('never an empty namespace selector (any namespace) unless anyNamespace: true', () => {
    const cases: Partial<AccessPolicyProps>[] = [
      {},
      { accessLabel: {} },
      { accessLabel: { anyNamespace: false } },
      { accessLabel: { prefix: 'redis-topologies.io', namespaces: ['shop'] } },
      { accessLabel: { namespaceLabels: { team: 'shop' } } },
      { clients: [AccessClient.namespace('shop'), AccessClient.pods({ app: 'x' }, { namespaceLabels: { team: 'a' } })] },
    ];
    for (const c of cases) {
      for (const peer of from(c)) expect(peer.namespace_selector).not.toEqual({});
    }
    expect(labelled({ accessLabel: { anyNamespace: true } })).toEqual([{ namespace_selector: {}, pod_selector: LABEL }]);
  });

  test('plus the namespaces of AccessClient.namespace clients, once each, in order', () => {
    const clients = [
      AccessClient.namespace('shop', { app: 'web' }),
      AccessClient.namespace('billing'),
      AccessClient.namespace('shop'),
      AccessClient.namespace('cache', { app: 'tool' }),
      AccessClient.pods({ app: 'worker' }),
      AccessClient.pods({ app: 'api' }, { namespaceLabels: { team: 'shop' } }),
      AccessClient.ipBlock('10.0.0.0/16'),
    ];
    expect(labelled({ clients })).toEqual([{ pod_selector: LABEL }, inNamespace('shop'), inNamespace('billing')]);
    // the clients themselves are admitted as given, before the label peers
    expect(from({ clients }).slice(0, clients.length)).toEqual([
      { namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'shop' } }, pod_selector: { match_labels: { app: 'web' } } },
      { namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'billing' } } },
      { namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'shop' } } },
      { namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'cache' } }, pod_selector: { match_labels: { app: 'tool' } } },
      { pod_selector: { match_labels: { app: 'worker' } } },
      { namespace_selector: { match_labels: { team: 'shop' } }, pod_selector: { match_labels: { app: 'api' } } },
      { ip_block: { cidr: '10.0.0.0/16' } },
    ]);
  });

  test('plus namespaces listed in the options, by kubernetes.io/metadata.name', () => {
    expect(labelled({ clients: [AccessClient.namespace('shop')], accessLabel: { namespaces: ['reports', 'shop', 'cache'] } }))
      .toEqual([{ pod_selector: LABEL }, inNamespace('shop'), inNamespace('reports')]);
  });

  test('plus namespaces selected by labels', () => {
    expect(labelled({ accessLabel: { namespaces: ['reports'], namespaceLabels: { 'example.com/redis-clients': 'true' } } })).toEqual([
      { pod_selector: LABEL },
      inNamespace('reports'),
      { namespace_selector: { match_labels: { 'example.com/redis-clients': 'true' } }, pod_selector: LABEL },
    ]);
  });

  test('the admitted namespaces are published on the construct', () => {
    let policy!: AccessPolicy;
    synth((s) => {
      policy = new AccessPolicy(s, 'Access', { ...base, clients: [AccessClient.namespace('shop')], accessLabel: { namespaces: ['reports'] } });
    });
    expect(policy.accessLabelKey).toBe('redis-topologies.io/redis-sessions-access');
    expect(policy.accessLabelNamespaces).toEqual(['cache', 'shop', 'reports']);
    synth((s) => {
      policy = new AccessPolicy(s, 'Access', { ...base, accessLabel: { anyNamespace: true } });
    });
    expect(policy.accessLabelNamespaces).toBeUndefined();
  });

  test('namespace names from Terraform variables', () => {
    const out = synth((s) => {
      const ns = new TerraformVariable(s, 'redis_namespace', { type: 'string' }).stringValue;
      const app = new TerraformVariable(s, 'app_namespace', { type: 'string' }).stringValue;
      const extra = new TerraformVariable(s, 'extra_namespace', { type: 'string' }).stringValue;
      new AccessPolicy(s, 'Access', {
        ...base,
        namespace: ns,
        // the same token twice is listed once (two separate `.stringValue` reads are two tokens,
        // which cannot be compared before apply: Kubernetes accepts the repeated peer)
        clients: [AccessClient.namespace(app)],
        accessLabel: { namespaces: [extra, app, ns] },
      });
    });
    const policy = out.named(NP, 'sessions-allow-clients');
    expect(policy.metadata.namespace).toBe('${var.redis_namespace}');
    expect(policy.spec.ingress[0].from).toEqual([
      { namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': '${var.app_namespace}' } } },
      { pod_selector: LABEL },
      inNamespace('${var.app_namespace}'),
      inNamespace('${var.extra_namespace}'),
    ]);
  });
});
