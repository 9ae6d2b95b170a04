/**
 * What every synthesized plan must satisfy, checked on the plan itself (cdk.tf.json), not on
 * construct props: so it holds for what Terraform will really create, including resources this
 * library did not make. Pure functions of the parsed JSON; the unit suite runs them over every
 * example plan.
 */

/** One broken rule. */
export interface PlanFinding {
  /** The rule's id: `encrypted-storage`, `restricted-pods`, `default-deny`, `secrets`, `service-selectors`. */
  readonly rule: string;
  /** `<terraform type>.<logical id>` of the resource. */
  readonly resource: string;
  readonly message: string;
}

/** The annotation every claim and StorageClass of this library carries: how the volume is encrypted. */
export const ENCRYPTION_ANNOTATION = 'redis-topologies.io/encryption';

/** Terraform's JSON syntax takes a single nested block as an object or as a list of one. */
function one(x: any): any {
  return Array.isArray(x) ? x[0] : x;
}

function list(x: any): any[] {
  return x === undefined || x === null ? [] : Array.isArray(x) ? x : [x];
}

/** A pod template in the plan: where it is, its namespace, its labels and its spec. */
export interface PlanPodTemplate {
  readonly resource: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly spec: any;
}

/** Every pod template: StatefulSets, Deployments, Jobs and CronJobs (their Job template). */
export function podTemplates(plan: any): PlanPodTemplate[] {
  const out: PlanPodTemplate[] = [];
  const resources = plan.resource ?? {};
  for (const type of ['kubernetes_stateful_set_v1', 'kubernetes_deployment_v1', 'kubernetes_job_v1', 'kubernetes_cron_job_v1']) {
    for (const [id, r] of Object.entries<any>(resources[type] ?? {})) {
      const spec = one(r.spec);
      const template = type === 'kubernetes_cron_job_v1' ? one(one(one(spec.job_template).spec).template) : one(spec.template);
      out.push({ resource: `${type}.${id}`, namespace: one(r.metadata).namespace, labels: one(template.metadata)?.labels ?? {}, spec: one(template.spec) });
    }
  }
  return out;
}

function containers(pod: any): any[] {
  return [...list(pod.init_container), ...list(pod.container)];
}

/** Every claim says how it is encrypted; an unencrypted one only with the explicit opt-out. */
function encryptedStorage(plan: any): PlanFinding[] {
  const findings: PlanFinding[] = [];
  const check = (resource: string, metadata: any) => {
    const how = metadata?.annotations?.[ENCRYPTION_ANNOTATION];
    if (typeof how !== 'string') {
      findings.push({ rule: 'encrypted-storage', resource, message: `the claim ${metadata?.name} says nothing about encryption (no ${ENCRYPTION_ANNOTATION} annotation)` });
    } else if (/UNENCRYPTED/.test(how) && !/accepted: yes/.test(how)) {
      findings.push({ rule: 'encrypted-storage', resource, message: `the claim ${metadata?.name} is unencrypted without the explicit opt-out: ${how}` });
    }
  };
  for (const [id, r] of Object.entries<any>(plan.resource?.kubernetes_persistent_volume_claim_v1 ?? {})) check(`kubernetes_persistent_volume_claim_v1.${id}`, one(r.metadata));
  for (const [id, r] of Object.entries<any>(plan.resource?.kubernetes_stateful_set_v1 ?? {})) {
    for (const t of list(one(r.spec).volume_claim_template)) check(`kubernetes_stateful_set_v1.${id}`, one(t.metadata));
  }
  return findings;
}

const RESTRICTED_VOLUMES = ['config_map', 'secret', 'empty_dir', 'persistent_volume_claim', 'projected', 'downward_api', 'csi', 'ephemeral'];

/** Pod Security Standard "restricted", as far as the plan shows it. */
function restrictedPods(plan: any): PlanFinding[] {
  const findings: PlanFinding[] = [];
  for (const t of podTemplates(plan)) {
    const fail = (message: string) => findings.push({ rule: 'restricted-pods', resource: t.resource, message });
    const pod = t.spec;
    const psc = one(pod.security_context) ?? {};
    if (pod.host_network === true || pod.host_pid === true || pod.host_ipc === true) fail('uses a host namespace');
    for (const v of list(pod.volume)) {
      const kind = Object.keys(v).find((k) => k !== 'name');
      if (!kind || !RESTRICTED_VOLUMES.includes(kind)) fail(`volume ${v.name} is of a kind the restricted profile forbids (${kind})`);
    }
    for (const c of containers(pod)) {
      const sc = one(c.security_context) ?? {};
      const where = `container ${c.name}`;
      if (sc.privileged === true) fail(`${where} is privileged`);
      if (sc.allow_privilege_escalation !== false) fail(`${where} does not set allowPrivilegeEscalation: false`);
      if ((sc.run_as_non_root ?? psc.run_as_non_root) !== true) fail(`${where} does not run as non-root`);
      if (String(sc.run_as_user ?? psc.run_as_user ?? '') === '0') fail(`${where} runs as uid 0`);
      const drop = list(one(sc.capabilities)?.drop);
      if (!drop.includes('ALL')) fail(`${where} does not drop ALL capabilities`);
      const add = list(one(sc.capabilities)?.add).filter((x: string) => x !== 'NET_BIND_SERVICE');
      if (add.length > 0) fail(`${where} adds capabilities ${add.join(', ')}`);
      const seccomp = one(sc.seccomp_profile)?.type ?? one(psc.seccomp_profile)?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') fail(`${where} has no RuntimeDefault seccomp profile`);
    }
  }
  return findings;
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Every pod is selected by a policy that denies all ingress and egress, in its namespace. */
function defaultDeny(plan: any): PlanFinding[] {
  const denies = Object.values<any>(plan.resource?.kubernetes_network_policy_v1 ?? {}).map((p) => ({ namespace: one(p.metadata).namespace, spec: one(p.spec) }))
    .filter((p) => list(p.spec.policy_types).includes('Ingress') && list(p.spec.policy_types).includes('Egress') && list(p.spec.ingress).length === 0 && list(p.spec.egress).length === 0);
  return podTemplates(plan)
    .filter((t) => !denies.some((d) => d.namespace === t.namespace && matches(one(d.spec.pod_selector)?.match_labels ?? {}, t.labels)))
    .map((t) => ({ rule: 'default-deny', resource: t.resource, message: `no deny-by-default NetworkPolicy selects its pods (${JSON.stringify(t.labels)}) in ${t.namespace}` }));
}

/** A Terraform reference to a secret value. */
const SECRET_REFERENCE = /\$\{(random_password|tls_private_key|data\.kubernetes_secret(_v1)?)\./;
const SECRET_ENV_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY)$/i;

/** No secret value in a ConfigMap or in a plain env value. */
function secrets(plan: any): PlanFinding[] {
  const findings: PlanFinding[] = [];
  for (const [id, r] of Object.entries<any>(plan.resource?.kubernetes_config_map_v1 ?? {})) {
    for (const [key, value] of Object.entries<any>(r.data ?? {})) {
      if (typeof value === 'string' && SECRET_REFERENCE.test(value)) {
        findings.push({ rule: 'secrets', resource: `kubernetes_config_map_v1.${id}`, message: `key ${key} holds a secret value (${SECRET_REFERENCE.exec(value)![0]}...)` });
      }
    }
  }
  for (const t of podTemplates(plan)) {
    for (const c of containers(t.spec)) {
      for (const e of list(c.env)) {
        if (e.value === undefined) continue;
        if (SECRET_REFERENCE.test(String(e.value)) || SECRET_ENV_NAME.test(e.name)) {
          findings.push({ rule: 'secrets', resource: t.resource, message: `container ${c.name} env ${e.name} has a plain value that is (or is named as) a secret; use valueFrom.secretKeyRef` });
        }
      }
    }
  }
  return findings;
}

/** Every Service's selector matches pods, and every target port is a port of those pods. */
function serviceSelectors(plan: any): PlanFinding[] {
  const findings: PlanFinding[] = [];
  const templates = podTemplates(plan);
  for (const [id, r] of Object.entries<any>(plan.resource?.kubernetes_service_v1 ?? {})) {
    const spec = one(r.spec);
    const selector = spec.selector as Record<string, string> | undefined;
    if (!selector || Object.keys(selector).length === 0) continue;
    const resource = `kubernetes_service_v1.${id}`;
    const pods = templates.filter((t) => t.namespace === one(r.metadata).namespace && matches(selector, t.labels));
    if (pods.length === 0) {
      findings.push({ rule: 'service-selectors', resource, message: `its selector ${JSON.stringify(selector)} matches no pod of the plan` });
      continue;
    }
    const ports = pods.flatMap((t) => containers(t.spec).flatMap((c) => list(c.port)));
    for (const p of list(spec.port)) {
      const target = p.target_port ?? p.port;
      const found = ports.some((cp) => (typeof target === 'number' || /^[0-9]+$/.test(String(target)) ? Number(cp.container_port) === Number(target) : cp.name === target));
      if (!found) findings.push({ rule: 'service-selectors', resource, message: `target port ${target} is no port of the pods it selects` });
    }
  }
  return findings;
}

/** Every invariant over one plan; empty when it holds them all. */
export function planFindings(plan: any): PlanFinding[] {
  return [...encryptedStorage(plan), ...restrictedPods(plan), ...defaultDeny(plan), ...secrets(plan), ...serviceSelectors(plan)];
}
