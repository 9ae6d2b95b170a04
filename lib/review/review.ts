/**
 * A pull-request review of a synthesized stack: what the plan will deploy, read from cdk.tf.json
 * (not from props), as Markdown a reviewer can paste, and with a base plan, what changes, which
 * changes replace a resource, and which pods roll. Pure functions of the parsed JSON.
 */
import { unescapeTemplateLiteral } from '../core/escaping';
import { planFindings, PlanPodTemplate, podTemplates } from './invariants';

/** The comment that marks a stack's review, so CI can update its pull-request comment instead of adding one. */
export function reviewMarker(stack: string): string {
  return `<!-- redis-topologies-review:${stack} -->`;
}

function one(x: any): any {
  return Array.isArray(x) ? x[0] : x;
}

function list(x: any): any[] {
  return x === undefined || x === null ? [] : Array.isArray(x) ? x : [x];
}

/** Every resource as `{ type, id, body, path }`, path being its construct path in the stack. */
function resources(plan: any): Array<{ type: string; id: string; body: any; path: string }> {
  const out: Array<{ type: string; id: string; body: any; path: string }> = [];
  for (const [type, byId] of Object.entries<any>(plan?.resource ?? {})) {
    for (const [id, body] of Object.entries<any>(byId)) out.push({ type, id, body, path: body?.['//']?.metadata?.path ?? id });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The top-level construct a resource belongs to: the path's second segment (`<stack>/<construct>/...`),
 * or, in a plan synthesized without construct metadata, the logical id's first part.
 */
function owner(path: string): string {
  return path.includes('/') ? path.split('/')[1] : path.split('_')[0];
}

const KIND: Record<string, string> = {
  kubernetes_stateful_set_v1: 'StatefulSet',
  kubernetes_deployment_v1: 'Deployment',
  kubernetes_job_v1: 'Job',
  kubernetes_cron_job_v1: 'CronJob',
};

function podResources(t: PlanPodTemplate): string {
  return [...list(t.spec.init_container), ...list(t.spec.container)].map((c) => {
    const r = one(c.resources) ?? {};
    const req = r.requests ?? {};
    const lim = r.limits ?? {};
    return `${c.name}: ${req.cpu ?? '-'} CPU, ${req.memory ?? '-'}${lim.memory && lim.memory !== req.memory ? ` (limit ${lim.memory})` : ''}`;
  }).join('; ');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function peerText(peer: any): string {
  const ns = one(peer.namespace_selector);
  const pods = one(peer.pod_selector);
  const block = one(peer.ip_block);
  if (block) return `CIDR ${block.cidr}${block.except ? ` except ${list(block.except).join(', ')}` : ''}`;
  const nsText = ns === undefined ? 'same namespace' : Object.keys(ns.match_labels ?? {}).length === 0 ? 'ANY namespace' : ns.match_labels['kubernetes.io/metadata.name'] ? `namespace ${ns.match_labels['kubernetes.io/metadata.name']}` : `namespaces ${JSON.stringify(ns.match_labels)}`;
  const podText = pods === undefined || Object.keys(pods.match_labels ?? {}).length === 0 ? 'every pod' : `pods ${Object.entries(pods.match_labels).map(([k, v]) => `${k}=${v}`).join(',')}`;
  return `${nsText}, ${podText}`;
}

/** The Markdown review of one stack's plan. */
export function reviewStack(stack: string, plan: any): string {
  const rs = resources(plan);
  const out: string[] = [reviewMarker(stack), `## Stack \`${stack}\``, ''];

  // Counts by kind.
  const counts = new Map<string, number>();
  for (const r of rs) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  out.push(`${rs.length} resources, ${Object.keys(plan?.output ?? {}).length} outputs.`, '', '| Kind | Count |', '|---|---|');
  for (const [type, n] of [...counts].sort()) out.push(`| \`${type}\` | ${n} |`);
  out.push('');

  // This library's topologies, recognized by their labels.
  const templates = podTemplates(plan);
  const topologies = recognizeTopologies(plan);
  if (topologies.length > 0) out.push('### Topologies', '', ...topologies.map((t) => `- ${t}`), '');

  // Workloads, by the construct that made them.
  out.push('### Workloads', '', '| Construct | Kind | Name | Replicas | Images | Ports | Resources | Storage |', '|---|---|---|---|---|---|---|---|');
  for (const r of rs.filter((x) => KIND[x.type])) {
    const t = templates.find((x) => x.resource === `${r.type}.${r.id}`)!;
    const spec = one(r.body.spec);
    const images = [...new Set([...list(t.spec.init_container), ...list(t.spec.container)].map((c) => c.image))].join(', ');
    const ports = list(t.spec.container).flatMap((c) => list(c.port).map((p) => `${p.name ?? ''}:${p.container_port}`)).join(', ');
    const claims = list(spec.volume_claim_template).map((c) => {
      const cs = one(c.spec);
      return `${one(c.metadata).name}: ${one(one(cs.resources)?.requests)?.storage ?? one(cs.resources)?.requests?.storage ?? '?'} on ${cs.storage_class_name ?? 'default class'}`;
    });
    const replicas = r.type === 'kubernetes_cron_job_v1' ? `schedule \`${spec.schedule}\`` : String(spec.replicas ?? 1);
    out.push(`| ${owner(r.path)} | ${KIND[r.type]} | ${one(r.body.metadata).name} | ${cell(replicas)} | ${cell(images)} | ${cell(ports || '-')} | ${cell(podResources(t))} | ${cell(claims.join('; ') || '-')} |`);
  }
  const pvcs = rs.filter((r) => r.type === 'kubernetes_persistent_volume_claim_v1');
  if (pvcs.length > 0) {
    out.push('', '| Claim | Size | Class | Encryption |', '|---|---|---|---|');
    for (const r of pvcs) {
      const md = one(r.body.metadata);
      const spec = one(r.body.spec);
      out.push(`| ${md.name} | ${one(spec.resources)?.requests?.storage ?? '?'} | ${spec.storage_class_name ?? 'default'} | ${cell(md.annotations?.['redis-topologies.io/encryption'] ?? 'not stated')} |`);
    }
  }
  out.push('');

  out.push('### Diagram', '', '```mermaid', ...mermaid(plan, templates), '```', '');

  // Who may reach what, from the NetworkPolicies.
  out.push('### Who may reach what', '', '| Policy | From | To | Ports |', '|---|---|---|---|');
  for (const r of rs.filter((x) => x.type === 'kubernetes_network_policy_v1')) {
    const md = one(r.body.metadata);
    const spec = one(r.body.spec);
    const target = Object.entries(one(spec.pod_selector)?.match_labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || 'every pod';
    const ingress = list(spec.ingress);
    const egress = list(spec.egress);
    if (ingress.length === 0 && egress.length === 0) {
      out.push(`| ${md.name} | - | ${cell(`${md.namespace}: ${target}`)} | deny all ${list(spec.policy_types).join(' and ').toLowerCase()} |`);
      continue;
    }
    for (const rule of ingress) {
      const ports = list(rule.ports).map((p) => p.port).join(', ') || 'all';
      for (const peer of list(rule.from)) out.push(`| ${md.name} | ${cell(peerText(peer))} | ${cell(`${md.namespace}: ${target}`)} | ${ports} |`);
    }
    for (const rule of egress) {
      const ports = list(rule.ports).map((p) => `${p.port}${p.protocol && p.protocol !== 'TCP' ? `/${p.protocol}` : ''}`).join(', ') || 'all';
      for (const peer of list(rule.to)) out.push(`| ${md.name} (egress) | ${cell(`${md.namespace}: ${target}`)} | ${cell(peerText(peer))} | ${ports} |`);
    }
  }
  out.push('');

  // The published connection details: the contract's ConfigMaps (values shown: they hold no
  // secret) and Secrets (keys only), and the outputs.
  const published = rs.filter((r) => (r.type === 'kubernetes_config_map_v1' || r.type === 'kubernetes_secret_v1') && one(r.body.metadata).labels?.['app.kubernetes.io/component'] === 'connection');
  const outputs = Object.entries<any>(plan?.output ?? {});
  if (published.length > 0 || outputs.length > 0) {
    out.push('### Published connection details', '');
    for (const r of published) {
      const md = one(r.body.metadata);
      const data = r.body.data ?? {};
      out.push(r.type === 'kubernetes_config_map_v1'
        ? `- ConfigMap ${md.namespace}/${md.name}: ${Object.keys(data).sort().map((k) => `${k}=${renderedText(data[k]).split('\n')[0]}`).join(', ')}`
        : `- Secret ${md.namespace}/${md.name}: ${Object.keys(data).sort().join(', ')}`);
    }
    if (outputs.length > 0) {
      out.push('', '| Output | Sensitive |', '|---|---|');
      for (const [name, o] of outputs) out.push(`| \`${name}\` | ${o.sensitive ? 'yes' : 'no'} |`);
    }
    out.push('');
  }

  const tls = tlsEndpoints(plan);
  out.push('### TLS endpoints', '', ...(tls.length > 0 ? tls.map((x) => `- ${x}`) : ['None.']), '');
  out.push('### Where secrets and private keys live', '', ...secretLocations(plan).map((x) => `- ${x}`), '');

  // Warnings: the invariants, and what a reviewer should look at twice.
  const warnings = planFindings(plan).map((f) => `**${f.rule}** \`${f.resource}\`: ${f.message}`);
  for (const t of templates) {
    for (const c of [...list(t.spec.init_container), ...list(t.spec.container)]) {
      if (typeof c.image === 'string' && !c.image.includes('@sha256:')) warnings.push(`image without a digest: \`${c.image}\` (${t.resource}, ${c.name})`);
    }
  }
  for (const r of rs.filter((x) => x.type === 'kubernetes_stateful_set_v1')) {
    const ann = one(r.body.metadata).annotations ?? {};
    if (ann['redis-topologies.io/availability'] === 'development') warnings.push(`development mode: \`${one(r.body.metadata).name}\` has no failover`);
    if (ann['redis-topologies.io/backups'] === 'none') warnings.push(`no backups: \`${one(r.body.metadata).name}\``);
  }
  for (const r of rs.filter((x) => x.type === 'kubernetes_network_policy_v1')) {
    for (const rule of list(one(r.body.spec).ingress)) {
      for (const peer of list(rule.from)) {
        const ns = one(peer.namespace_selector);
        if (ns !== undefined && Object.keys(ns.match_labels ?? {}).length === 0 && list(ns.match_expressions).length === 0) warnings.push(`access open to any namespace: \`${one(r.body.metadata).name}\``);
      }
    }
  }
  const pdbSelectors = rs.filter((r) => r.type === 'kubernetes_pod_disruption_budget_v1').map((r) => one(one(r.body.spec).selector)?.match_labels ?? {});
  for (const t of templates.filter((x) => x.resource.startsWith('kubernetes_stateful_set_v1') || x.resource.startsWith('kubernetes_deployment_v1'))) {
    if (!pdbSelectors.some((s) => Object.entries(s).every(([k, v]) => t.labels[k] === v))) warnings.push(`no PodDisruptionBudget for ${t.resource}`);
  }
  out.push('### Warnings', '', ...(warnings.length > 0 ? [...new Set(warnings)].map((w) => `- ${w}`) : ['None.']), '');

  // Every rendered file, readable.
  const files = rs.filter((r) => r.type === 'kubernetes_config_map_v1');
  if (files.length > 0) {
    out.push('### Rendered files', '');
    for (const r of files) {
      for (const [key, value] of Object.entries<any>(r.body.data ?? {})) {
        out.push(`<details><summary>${one(r.body.metadata).name}: ${key}</summary>`, '', '```text', renderedText(value), '```', '', '</details>');
      }
    }
    out.push('');
  }
  return out.join('\n');
}

/** The part-of label values of this library's workloads, and what they are. */
const PART_OF: Readonly<Record<string, string>> = {
  'sentinel-redis': 'SentinelRedis',
  'sharded-redis-cluster': 'ShardedRedisCluster',
  'sharded-redis-cluster-proxy': 'ShardedRedisCluster proxy',
  'redis-portal': 'HaproxyPortal',
  'sentinel-redis-backup': 'SentinelRedis backups',
  'sharded-redis-cluster-backup': 'ShardedRedisCluster backups',
};

/** This library's topologies in a plan, one line each: what, name, namespace, workloads. */
export function recognizeTopologies(plan: any): string[] {
  const found = new Map<string, string[]>();
  for (const r of resources(plan).filter((x) => KIND[x.type])) {
    const md = one(r.body.metadata);
    const partOf = md.labels?.['app.kubernetes.io/part-of'];
    if (!PART_OF[partOf]) continue;
    // A flash tier is a SentinelRedis with the Kvrocks engine; its backups run one CronJob per member.
    const what = partOf === 'sentinel-redis' && one(one(r.body.spec).template)?.metadata?.annotations?.['redis-topologies.io/engine'] === 'kvrocks'
      ? 'FlashTierRedis (Kvrocks)'
      : partOf === 'sentinel-redis-backup' && md.labels['redis-topologies.io/backup-member'] !== undefined ? 'FlashTierRedis (Kvrocks) backups' : PART_OF[partOf];
    const key = `${what} \`${md.labels['app.kubernetes.io/instance']}\` in ${md.namespace}`;
    found.set(key, [...(found.get(key) ?? []), `${KIND[r.type]} ${md.name}`]);
  }
  return [...found].map(([k, v]) => `${k}: ${v.join(', ')}`);
}

/** The diagram of a plan: workloads (with their claims), the clients the policies admit, and the allowed flows. */
export interface FlowGraph {
  readonly nodes: ReadonlyArray<{ readonly id: string; readonly label: string; readonly kind: 'workload' | 'client' }>;
  readonly edges: ReadonlyArray<{ readonly from: string; readonly to: string; readonly ports: string }>;
}

/** The graph both diagrams draw: one node per workload and per client peer, one edge per allowed flow with its ports. */
export function flowGraph(plan: any, templates: PlanPodTemplate[] = podTemplates(plan)): FlowGraph {
  const id = (text: string) => `n${[...text].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7).toString(36)}`;
  const nodes = new Map<string, { id: string; label: string; kind: 'workload' | 'client' }>();
  const node = (key: string, label: string, kind: 'workload' | 'client') => {
    if (!nodes.has(key)) nodes.set(key, { id: id(key), label, kind });
    return nodes.get(key)!.id;
  };
  const workloads = templates.map((t) => {
    const [type, logical] = t.resource.split('.');
    const body = plan.resource[type][logical];
    const claims = list(one(body.spec).volume_claim_template).map((c: any) => `${one(c.metadata).name} ${one(one(c.spec).resources)?.requests?.storage ?? ''}`.trim());
    return { t, node: node(t.resource, `${KIND[type]} ${one(body.metadata).name}${claims.length ? `\nclaims: ${claims.join(', ')}` : ''}`, 'workload') };
  });
  const edges = new Map<string, { from: string; to: string; ports: string }>();
  for (const np of Object.values<any>(plan.resource?.kubernetes_network_policy_v1 ?? {})) {
    const spec = one(np.spec);
    const ns = one(np.metadata).namespace;
    const targets = workloads.filter((w) => w.t.namespace === ns && Object.entries(one(spec.pod_selector)?.match_labels ?? {}).every(([k, v]) => w.t.labels[k] === v));
    for (const rule of list(spec.ingress)) {
      const ports = list(rule.ports).map((p: any) => p.port).join(',') || 'all';
      for (const peer of list(rule.from)) {
        const pods = one(peer.pod_selector)?.match_labels;
        const sources = one(peer.namespace_selector) === undefined && pods
          ? workloads.filter((w) => w.t.namespace === ns && Object.entries(pods).every(([k, v]) => w.t.labels[k] === v)).map((w) => w.node)
          : [];
        const from = sources.length > 0 ? sources : [node(`peer:${peerText(peer)}`, peerText(peer), 'client')];
        for (const f of from) for (const t of targets) if (f !== t.node) edges.set(`${f} ${t.node} ${ports}`, { from: f, to: t.node, ports });
      }
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.keys()].sort().map((k) => edges.get(k)!) };
}

/** The graph as a Mermaid flowchart (GitHub and GitLab render it in a pull request). */
export function mermaid(plan: any, templates?: PlanPodTemplate[]): string[] {
  const g = flowGraph(plan, templates);
  const label = (text: string) => text.replace(/"/g, "'").replace(/\n/g, '<br/>');
  return [
    'flowchart LR',
    ...g.nodes.map((n) => (n.kind === 'workload' ? `  ${n.id}["${label(n.label)}"]` : `  ${n.id}(["${label(n.label)}"])`)),
    ...g.edges.map((e) => `  ${e.from} -->|${e.ports}| ${e.to}`),
  ];
}

/** The graph in Graphviz's DOT language, for an SVG rendered offline (see renderSvg). */
export function dot(plan: any, title: string): string {
  const g = flowGraph(plan);
  const q = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  return [
    `digraph ${q(title)} {`,
    '  rankdir=LR; fontname="Helvetica"; labelloc=t; label=' + q(title) + ';',
    '  node [fontname="Helvetica", fontsize=11, margin="0.3,0.1"]; edge [fontname="Helvetica", fontsize=10, color="#555555"];',
    ...g.nodes.map((n) => `  ${n.id} [label=${q(n.label)}, shape=${n.kind === 'workload' ? 'box, style="rounded,filled", fillcolor="#dbe9f6"' : 'ellipse, style=filled, fillcolor="#f3f3f3"'}];`),
    ...g.edges.map((e) => `  ${e.from} -> ${e.to} [label=${q(e.ports)}];`),
    '}',
  ].join('\n');
}

/**
 * An SVG of a DOT graph, rendered offline by Graphviz compiled to WebAssembly
 * (@hpcc-js/wasm-graphviz, an ES module: loaded with a real dynamic import).
 */
export async function renderSvg(dotSource: string): Promise<string> {
  const load = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;
  const { Graphviz } = await load('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return graphviz.dot(dotSource, 'svg');
}

/** TLS endpoints the rendered files configure, with their minimum version: `<ConfigMap>/<file>: <what>`. */
export function tlsEndpoints(plan: any): string[] {
  const out: string[] = [];
  for (const r of Object.values<any>(plan?.resource?.kubernetes_config_map_v1 ?? {})) {
    for (const [key, value] of Object.entries<any>(r.data ?? {})) {
      const text = renderedText(value);
      const where = `${one(r.metadata).name}/${key}`;
      for (const m of text.matchAll(/^\s*bind :(\d+) ssl .*?ssl-min-ver (\S+)/gm)) out.push(`${where}: port ${m[1]}, TLS from ${m[2]} (HAProxy)`);
      const redisTls = /^tls-port (\d+)/m.exec(text);
      if (redisTls && redisTls[1] !== '0') out.push(`${where}: port ${redisTls[1]}, TLS ${/^tls-protocols "?([^"\n]+)"?/m.exec(text)?.[1] ?? 'as Redis defaults'} (Redis)`);
      for (const m of text.matchAll(/tls_minimum_protocol_version: "?(\w+)"?/g)) out.push(`${where}: TLS from ${m[1]} (Envoy)`);
    }
  }
  return [...new Set(out)].sort();
}

/** Where each secret and private key lives: Secrets of the plan (and whether their values are in Terraform state), and Secrets it only references. */
export function secretLocations(plan: any): string[] {
  const out: string[] = [];
  const made = new Set<string>();
  for (const r of Object.values<any>(plan?.resource?.kubernetes_secret_v1 ?? {})) {
    const md = one(r.metadata);
    made.add(`${md.namespace}/${md.name}`);
    const inState = Object.entries<any>(r.data ?? {}).filter(([, v]) => /\$\{(random_password|tls_private_key)\./.test(String(v))).map(([k]) => k);
    out.push(`Secret ${md.namespace}/${md.name} (${Object.keys(r.data ?? {}).sort().join(', ')})${inState.length ? `: ${inState.sort().join(', ')} generated by Terraform, so also in its state` : ''}`);
  }
  for (const [id] of Object.entries<any>(plan?.resource?.tls_private_key ?? {})) out.push(`private key tls_private_key.${id}: in Terraform state`);
  const readers = new Map<string, string[]>();
  for (const t of podTemplates(plan)) {
    const refs = new Set<string>();
    for (const v of list(t.spec.volume)) if (one(v.secret)?.secret_name) refs.add(String(one(v.secret).secret_name));
    for (const c of [...list(t.spec.init_container), ...list(t.spec.container)]) {
      for (const e of list(c.env)) {
        const ref = one(one(e.value_from)?.secret_key_ref);
        if (ref?.name) refs.add(String(ref.name));
      }
    }
    for (const name of refs) {
      const key = `${t.namespace}/${name}`;
      if (!name.includes('${') && !made.has(key)) readers.set(key, [...(readers.get(key) ?? []), one(plan.resource[t.resource.split('.')[0]][t.resource.split('.')[1]].metadata).name]);
    }
  }
  for (const [key, names] of readers) out.push(`Secret ${key}: yours, not in Terraform state; read by ${[...new Set(names)].sort().join(', ')}`);
  return [...new Set(out)].sort();
}

/** Every allowed flow as one line, `<policy>: <from> -> <to> : <ports>` (egress `<to>` is the peer). */
export function accessFlows(plan: any): string[] {
  const out: string[] = [];
  for (const r of Object.values<any>(plan?.resource?.kubernetes_network_policy_v1 ?? {})) {
    const md = one(r.metadata);
    const spec = one(r.spec);
    const target = `${md.namespace}: ${Object.entries(one(spec.pod_selector)?.match_labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || 'every pod'}`;
    for (const rule of list(spec.ingress)) for (const peer of list(rule.from)) out.push(`${md.name}: ${peerText(peer)} -> ${target} : ${list(rule.ports).map((p) => p.port).join(',') || 'all'}`);
    for (const rule of list(spec.egress)) for (const peer of list(rule.to)) out.push(`${md.name}: ${target} -> ${peerText(peer)} : ${list(rule.ports).map((p) => p.port).join(',') || 'all'}`);
  }
  return [...new Set(out)].sort();
}

function images(plan: any): string[] {
  return [...new Set(podTemplates(plan).flatMap((t) => [...list(t.spec.init_container), ...list(t.spec.container)].map((c) => `${t.resource}/${c.name}: ${c.image}`)))].sort();
}

/** What a change does to security: access opened or closed, TLS, images, secrets. */
function securityDiff(base: any, plan: any): string[] {
  const lines: string[] = [];
  const compare = (what: string, a: string[], b: string[]) => {
    for (const x of b.filter((v) => !a.includes(v))) lines.push(`- ${what} **added**: ${x}`);
    for (const x of a.filter((v) => !b.includes(v))) lines.push(`- ${what} **removed**: ${x}`);
  };
  compare('access', accessFlows(base), accessFlows(plan));
  compare('TLS', tlsEndpoints(base), tlsEndpoints(plan));
  compare('image', images(base), images(plan));
  compare('secret', secretLocations(base), secretLocations(plan));
  return lines;
}

/** A plan string as the pod receives it (Terraform's escapes read back). */
function renderedText(value: unknown): string {
  return typeof value === 'string' ? unescapeTemplateLiteral(value).replace(/```/g, '` ``') : JSON.stringify(value);
}

/**
 * Fields whose change makes Terraform destroy and re-create the resource: `ForceNew: true` in the
 * kubernetes provider's schemas (hashicorp/terraform-provider-kubernetes at 3a33fb6, after v3.2.1:
 * kubernetes/schema_stateful_set_spec.go, schema_persistent_volume_claim.go, schema_job_spec.go,
 * resource_kubernetes_service_v1.go, _secret_v1.go, _deployment_v1.go, _storage_class_v1.go,
 * _pod_disruption_budget_v1.go; the CronJob has none), as paths under the resource body.
 * `metadata.name` and `metadata.namespace` are ForceNew for every type.
 */
export const REPLACING_FIELDS: Readonly<Record<string, readonly string[]>> = {
  kubernetes_stateful_set_v1: ['spec.selector', 'spec.service_name', 'spec.pod_management_policy', 'spec.volume_claim_template', 'spec.revision_history_limit'],
  kubernetes_deployment_v1: ['spec.selector'],
  kubernetes_job_v1: ['spec.template', 'spec.selector', 'spec.completions', 'spec.completion_mode', 'spec.backoff_limit_per_index', 'spec.pod_failure_policy'],
  kubernetes_persistent_volume_claim_v1: ['spec.storage_class_name', 'spec.access_modes', 'spec.selector', 'spec.volume_name', 'spec.volume_mode', 'spec.resources.limits'],
  kubernetes_service_v1: ['spec.cluster_ip', 'spec.cluster_ips', 'spec.load_balancer_class', 'spec.health_check_node_port'],
  kubernetes_secret_v1: ['type'],
  kubernetes_storage_class_v1: ['storage_provisioner', 'parameters', 'volume_binding_mode', 'mount_options', 'allowed_topologies'],
  kubernetes_pod_disruption_budget_v1: ['spec.selector', 'spec.max_unavailable', 'spec.min_available'],
  // Every argument of these is ForceNew (hashicorp/terraform-provider-random and -tls).
  random_password: ['*'],
  tls_private_key: ['*'],
  tls_self_signed_cert: ['*'],
  tls_locally_signed_cert: ['*'],
  tls_cert_request: ['*'],
};

/** What a replacement of a resource of this type means for the running pods and data. */
const REPLACEMENT_MEANS: Readonly<Record<string, string>> = {
  kubernetes_stateful_set_v1: 'every pod of the StatefulSet is deleted and re-created at once (no rolling update); claims Terraform owns survive, claims from a volume claim template are orphaned or re-made',
  kubernetes_persistent_volume_claim_v1: 'the claim is deleted and a new, EMPTY one made: the data on it is lost unless the volume is retained and re-bound',
  kubernetes_deployment_v1: 'every pod is deleted and re-created at once: clients through it see an outage',
  kubernetes_job_v1: 'the Job runs again',
  kubernetes_service_v1: 'the Service gets a new address: clients holding the old one reconnect',
  kubernetes_secret_v1: 'pods reading it see it vanish and come back',
  kubernetes_storage_class_v1: 'claims already made keep the old parameters; new claims use the new class',
  kubernetes_pod_disruption_budget_v1: 'evictions are unprotected for a moment',
  random_password: 'a NEW password: the Secret changes, the topology\'s pods use it from their next start, and every client must be given it',
  tls_private_key: 'a new key: certificates signed with it are re-issued',
  tls_self_signed_cert: 'a new CA: clients that trust the old one must be given the new ca.crt',
  tls_locally_signed_cert: 'a new server certificate, served once the pods pick it up',
  tls_cert_request: 'a new certificate request, and a new certificate',
};

function getPath(body: any, path: string): unknown {
  return path.split('.').reduce<any>((v, k) => (v === undefined ? undefined : one(v)?.[k]), body);
}

/** Line diff of two texts as unified-diff hunks with 2 lines of context (LCS; files of a plan are small). */
export function unifiedDiff(a: string, b: string, context = 2): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: Array<{ op: ' ' | '-' | '+'; line: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      ops.push({ op: ' ', line: x[i] }); i++; j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ op: '-', line: x[i] }); i++;
    } else {
      ops.push({ op: '+', line: y[j] }); j++;
    }
  }
  const keep = ops.map((o, k) => o.op !== ' ' || ops.slice(Math.max(0, k - context), k + context + 1).some((p) => p.op !== ' '));
  const lines: string[] = [];
  ops.forEach((o, k) => {
    if (keep[k]) lines.push(`${o.op}${o.line}`);
    else if (k > 0 && keep[k - 1]) lines.push('@@');
  });
  return lines.join('\n');
}

/** The Markdown of what changes from `base` to `plan`: resources, replacements, rolling pods, files. */
export function reviewDiff(stack: string, base: any, plan: any): string {
  const before = new Map(resources(base).map((r) => [`${r.type}.${r.id}`, r]));
  const after = new Map(resources(plan).map((r) => [`${r.type}.${r.id}`, r]));
  const out: string[] = [`### Changes from the base plan`, ''];
  const added = [...after.keys()].filter((k) => !before.has(k));
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const changed = [...after.keys()].filter((k) => before.has(k) && JSON.stringify(strip(before.get(k)!.body)) !== JSON.stringify(strip(after.get(k)!.body)));
  out.push(`${added.length} added, ${removed.length} removed, ${changed.length} changed.`, '');
  for (const k of added) out.push(`- added \`${k}\``);
  for (const k of removed) out.push(`- **removed** \`${k}\`${REPLACEMENT_MEANS[before.get(k)!.type] ? `: ${REPLACEMENT_MEANS[before.get(k)!.type].replace(/^the claim is deleted and a new, EMPTY one made/, 'the claim is deleted')}` : ''}`);
  const replacing: string[] = [];
  const rolling: string[] = [];
  const diffs: string[] = [];
  for (const k of changed) {
    const b = before.get(k)!;
    const a = after.get(k)!;
    const fields = topLevelChanges(b.body, a.body);
    out.push(`- changed \`${k}\`: ${fields.join(', ')}`);
    const forcing = REPLACING_FIELDS[a.type]?.[0] === '*' ? fields
      : ['metadata.name', 'metadata.namespace', ...(REPLACING_FIELDS[a.type] ?? [])].filter((f) => JSON.stringify(getPath(b.body, f)) !== JSON.stringify(getPath(a.body, f)));
    if (forcing.length > 0) replacing.push(`- **REPLACEMENT** \`${k}\` (${forcing.join(', ')} changed): ${REPLACEMENT_MEANS[a.type] ?? 'Terraform destroys and re-creates it'}`);
    if (KIND[a.type] && a.type !== 'kubernetes_job_v1' && JSON.stringify(getPath(b.body, 'spec.template')) !== JSON.stringify(getPath(a.body, 'spec.template'))) {
      const why = JSON.stringify(getPath(b.body, 'spec.template.metadata.annotations')) !== JSON.stringify(getPath(a.body, 'spec.template.metadata.annotations')) ? 'pod template annotations (config checksum)' : 'pod template';
      rolling.push(`- \`${one(a.body.metadata).name}\` rolls: ${why} changed`);
    }
    if (a.type === 'kubernetes_config_map_v1') {
      const keys = new Set([...Object.keys(b.body.data ?? {}), ...Object.keys(a.body.data ?? {})]);
      for (const key of [...keys].sort()) {
        const x = b.body.data?.[key];
        const y = a.body.data?.[key];
        if (x === y) continue;
        diffs.push(`<details><summary>${one(a.body.metadata).name}: ${key}</summary>`, '', '```diff', unifiedDiff(x === undefined ? '' : renderedText(x), y === undefined ? '' : renderedText(y)), '```', '', '</details>');
      }
    }
  }
  out.push('', '#### Replacements', '', ...(replacing.length > 0 ? replacing : ['None: every change is made in place.']), '');
  const security = securityDiff(base, plan);
  out.push('#### Security', '', ...(security.length > 0 ? security : ['No access, TLS, image or secret change.']), '');
  out.push('#### Pods that roll', '', ...(rolling.length > 0 ? rolling : ['None.']), '');
  if (diffs.length > 0) out.push('#### Rendered files', '', ...diffs, '');
  return `${reviewMarker(stack)}\n${out.join('\n')}`;
}

/** The body without cdktf's metadata. */
function strip(body: any): any {
  const { ['//']: _meta, ...rest } = body ?? {};
  return rest;
}

/** Changed fields, two levels deep (`spec.replicas`, `metadata.annotations`). */
function topLevelChanges(a: any, b: any): string[] {
  const out: string[] = [];
  const x = strip(a);
  const y = strip(b);
  for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
    if (JSON.stringify(x[k]) === JSON.stringify(y[k])) continue;
    const xi = one(x[k]);
    const yi = one(y[k]);
    if (xi && yi && typeof xi === 'object' && typeof yi === 'object') {
      for (const k2 of [...new Set([...Object.keys(xi), ...Object.keys(yi)])].sort()) {
        if (JSON.stringify(xi[k2]) !== JSON.stringify(yi[k2])) out.push(`${k}.${k2}`);
      }
    } else {
      out.push(k);
    }
  }
  return out;
}
