/**
 * Reads a synthesized plan (cdk.tf.json) and turns a StatefulSet's pod template into the container
 * specs the live harness runs: the same command, args, env, mount paths and user as on a cluster.
 *
 * Every value is taken as Terraform delivers it to the Kubernetes API, not as the JSON spells it:
 * a plan that Terraform would refuse (an unescaped `${...}` or `%{`) fails here, before any pod
 * starts, and literal strings are rendered by the template reader whose output the unit suite
 * checks against the real terraform binary (test/terraform). Values that Terraform computes at
 * apply time (a Secret's generated password) are TerraformValue objects, never strings, so they
 * cannot be booted by mistake.
 *
 * ConfigMap volumes carry the ConfigMap's rendered data; Secret volumes carry the plan's data
 * with Terraform-computed values replaced by test values; emptyDirs and claims are host folders.
 */
import { makeVolumeDir } from './harness/pod';
import { formatFinding, scanPlan } from '../terraform/plan-check';
import { parseTemplate, renderLiteral } from '../terraform/template';

/** A plan value that Terraform evaluates at plan or apply time (it has interpolations). */
export class TerraformValue {
  constructor(public readonly template: string) {}
  public toString(): string {
    return this.template;
  }
}

/** The plan as Terraform delivers it: literal strings rendered, evaluated ones as TerraformValue. */
function renderPlanValues(v: unknown): unknown {
  if (typeof v === 'string') return parseTemplate(v).every((p) => p.kind === 'literal') ? renderLiteral(v) : new TerraformValue(v);
  if (Array.isArray(v)) return v.map(renderPlanValues);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k === '//' ? k : renderLiteral(k), renderPlanValues(x)]));
  }
  return v;
}

/** A string the container receives; a value only Terraform knows cannot be emulated. */
function literal(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  throw new Error(`${where}: ${String(value)} is computed by Terraform; the emulator needs a literal`);
}

export interface PlanVolumeFiles { kind: 'files'; files: Record<string, string>; mode?: number }
export interface PlanVolumeDir { kind: 'dir'; hostDir: string }
export type PlanVolume = PlanVolumeFiles | PlanVolumeDir;

export interface PlanContainer {
  name: string;
  command: string[];
  args?: string[];
  env: Record<string, string>;
  runAsUser: number;
  runAsGroup: number;
  fsGroup?: number;
  volumeMounts: Array<{ mountPath: string; readOnly?: boolean; volume: PlanVolume }>;
  /** The preStop hook's exec command, when the container has one. */
  preStop?: string[];
  /** The readiness probe: an exec command, or a TCP port that must accept a connection. */
  readiness?: { exec?: string[]; tcpPort?: number | string };
  /** The pod's terminationGracePeriodSeconds (Kubernetes' default 30 when the plan leaves it out). */
  terminationGraceSeconds: number;
}

/** Per-pod persistent folders (volume claims): they survive restarts of the emulated pod, as a PVC does. */
export class ClaimStore {
  private readonly dirs = new Map<string, string>();

  /** The folder of claim `claim` of pod `pod`, owned by uid:gid. */
  public dir(pod: string, claim: string, uid: number, gid: number): string {
    const key = `${pod}/${claim}`;
    let dir = this.dirs.get(key);
    if (!dir) {
      dir = makeVolumeDir({ uid, gid }, `claim-${pod}-${claim}`);
      this.dirs.set(key, dir);
    }
    return dir;
  }

  /**
   * The folder of the claim a StatefulSet names `<template>-<pod>` (how a pod that is not the
   * StatefulSet's, e.g. a backup Job's, mounts it), or undefined when no pod has used it yet.
   */
  public named(claimName: string): string | undefined {
    for (const [key, dir] of this.dirs) {
      const [pod, claim] = key.split('/');
      if (`${claim}-${pod}` === claimName) return dir;
    }
    return undefined;
  }
}

/** A fresh emptyDir owned by uid:gid (under the harness's scratch root, never under /tmp, a mountPath). */
export function emptyDir(uid: number, gid: number): string {
  return makeVolumeDir({ uid, gid }, 'emptydir');
}

/** A volume's `items`: only the listed keys, each at its path (all keys when there are none). */
function project(data: Record<string, string>, items?: Array<{ key: string; path: string }>): Record<string, string> {
  if (!items || items.length === 0) return data;
  const out: Record<string, string> = {};
  for (const item of items) {
    if (data[item.key] === undefined) throw new Error(`volume item ${item.key} is not in its source`);
    if (item.path.includes('/')) throw new Error(`volume item path ${item.path}: nested paths are not emulated`);
    out[item.path] = data[item.key];
  }
  return out;
}

/** Terraform's JSON syntax takes a single nested block as an object or as a list of one. */
function one(x: any): any {
  return Array.isArray(x) ? x[0] : x;
}

export interface PodContainerOptions {
  namespace: string;
  claims: ClaimStore;
  secretValues: Record<string, string>;
  externalSecrets?: Record<string, Record<string, string>>;
  podIP?: string;
  /** The pod's init containers instead of its containers. */
  init?: boolean;
  /** The pod's emptyDirs by volume name: pass the same map for its init containers and its containers. */
  emptyDirs?: Map<string, string>;
}

const REF = /^\$\{(kubernetes_[a-z_0-9]+)\.([A-Za-z0-9_-]+)\.metadata\[0\]\.name\}$/;

export class Plan {
  /** The plan as Terraform delivers it (see renderPlanValues). */
  public readonly json: any;

  /** Throws, naming every finding, when Terraform would refuse the plan. */
  constructor(public readonly raw: any) {
    const findings = scanPlan('plan', raw);
    if (findings.length > 0) {
      throw new Error(`Terraform would refuse this plan; no pod is started:\n${findings.map(formatFinding).join('\n')}`);
    }
    this.json = renderPlanValues(raw);
  }

  /** The resource a `${<type>.<id>.metadata[0].name}` reference points to. */
  private resolveRef(value: unknown): any | undefined {
    if (!(value instanceof TerraformValue)) return undefined;
    const m = REF.exec(value.template);
    const r = m ? this.json.resource?.[m[1]]?.[m[2]] : undefined;
    if (!r) throw new Error(`${value.template}: a reference the emulator cannot resolve`);
    return r;
  }

  /** The StatefulSet whose metadata.name is `name`. */
  public statefulSet(name: string): any {
    const sts = Object.values<any>(this.json.resource.kubernetes_stateful_set_v1 ?? {}).find((s) => s.metadata.name === name);
    if (!sts) throw new Error(`no StatefulSet ${name} in the plan`);
    return sts;
  }

  /** The Deployment whose metadata.name is `name`. */
  public deployment(name: string): any {
    const d = Object.values<any>(this.json.resource.kubernetes_deployment_v1 ?? {}).find((s) => s.metadata.name === name);
    if (!d) throw new Error(`no Deployment ${name} in the plan`);
    return d;
  }

  /** The resource of `type` whose metadata.name is `name`. */
  public named(type: string, name: string): any {
    const r = Object.values<any>(this.json.resource[type] ?? {}).find((s) => s.metadata?.name === name);
    if (!r) throw new Error(`no ${type} ${name} in the plan`);
    return r;
  }


  /**
   * The containers of pod `podName` of the StatefulSet or Deployment `workload`. `secretValues` replaces Terraform
   * references inside Secret data (e.g. the random_password result) by key.
   */
  public podContainers(workload: string, podName: string, opts: PodContainerOptions): PlanContainer[] {
    const byName = (type: string) => Object.values<any>(this.json.resource[type] ?? {}).find((s) => s.metadata.name === workload);
    const cron = byName('kubernetes_cron_job_v1');
    const sts = cron ? undefined : byName('kubernetes_stateful_set_v1') ?? byName('kubernetes_job_v1') ?? this.deployment(workload);
    // A CronJob's pods are its Job template's pods.
    const template = cron ? one(one(one(cron.spec).job_template).spec).template : sts.spec.template;
    const pod = one(template).spec;
    // A pod's emptyDirs are shared by its containers (init containers included, through opts.emptyDirs).
    const emptyDirs = opts.emptyDirs ?? new Map<string, string>();
    const podSc = pod.security_context ?? {};
    const volumes = new Map<string, any>((pod.volume ?? []).map((v: any) => [v.name, v]));
    const claims = new Set<string>((sts?.spec.volume_claim_template ?? []).map((c: any) => c.metadata.name));

    return ((opts.init ? pod.init_container : pod.container) ?? []).map((c: any) => {
      const sc = c.security_context ?? {};
      const uid = Number(sc.run_as_user ?? podSc.run_as_user);
      const gid = Number(sc.run_as_group ?? podSc.run_as_group ?? uid);
      const fsGroup = podSc.fs_group !== undefined ? Number(podSc.fs_group) : undefined;
      if (!Number.isInteger(uid) || uid === 0) throw new Error(`${workload}/${c.name}: the plan must set a non-root run_as_user`);
      const env: Record<string, string> = {};
      for (const e of c.env ?? []) {
        if (e.value !== undefined) env[e.name] = literal(e.value, `${workload}/${c.name} env ${e.name}`);
        else if (e.value_from?.field_ref?.field_path === 'metadata.name') env[e.name] = podName;
        else if (e.value_from?.field_ref?.field_path === 'metadata.namespace') env[e.name] = opts.namespace;
        else if (e.value_from?.field_ref?.field_path === 'status.podIP') {
          if (opts.podIP === undefined) throw new Error(`${workload}/${c.name}: env ${e.name} is the pod's address; give the emulator one`);
          env[e.name] = opts.podIP;
        }
        else if (e.value_from?.secret_key_ref) env[e.name] = this.secretData(e.value_from.secret_key_ref.name, opts)[e.value_from.secret_key_ref.key];
        else throw new Error(`${workload}/${c.name}: env ${e.name} has a source the emulator does not know`);
      }
      const volumeMounts = (c.volume_mount ?? []).map((vm: any) => {
        let volume: PlanVolume;
        if (claims.has(vm.name)) {
          volume = { kind: 'dir', hostDir: opts.claims.dir(podName, vm.name, uid, fsGroup ?? gid) };
        } else {
          const v = volumes.get(vm.name);
          if (!v) throw new Error(`${workload}/${c.name}: mount ${vm.name} has no volume`);
          if (v.config_map) {
            const cm = this.resolveRef(v.config_map.name) ?? Object.values<any>(this.json.resource.kubernetes_config_map_v1).find((x) => x.metadata.name === v.config_map.name);
            if (!cm) throw new Error(`ConfigMap ${v.config_map.name} is not in the plan`);
            volume = { kind: 'files', files: project(Object.fromEntries(Object.entries(cm.data ?? {}).map(([k, x]) => [k, literal(x, `ConfigMap ${cm.metadata.name} key ${k}`)])), v.config_map.items), mode: parseInt(v.config_map.default_mode ?? '0644', 8) };
          } else if (v.secret) {
            volume = { kind: 'files', files: project(this.secretData(v.secret.secret_name, opts), v.secret.items), mode: parseInt(v.secret.default_mode ?? '0644', 8) };
          } else if (v.persistent_volume_claim) {
            const claimName = literal(v.persistent_volume_claim.claim_name, `${workload}/${c.name} claim`);
            const dir = opts.claims.named(claimName);
            // Kubernetes would leave the pod Pending on a claim that does not exist.
            if (!dir) throw new Error(`${workload}/${c.name}: claim ${claimName} is not one the emulated pods have`);
            volume = { kind: 'dir', hostDir: dir };
          } else if (v.empty_dir) {
            if (!emptyDirs.has(vm.name)) emptyDirs.set(vm.name, emptyDir(uid, fsGroup ?? gid));
            volume = { kind: 'dir', hostDir: emptyDirs.get(vm.name)! };
          } else {
            throw new Error(`${workload}/${c.name}: volume ${vm.name} has a kind the emulator does not know`);
          }
        }
        // A read-only claim volume is read-only in every mount of it.
        const readOnly = vm.read_only === true || volumes.get(vm.name)?.persistent_volume_claim?.read_only === true;
        return { mountPath: literal(vm.mount_path, `${workload}/${c.name} mount ${vm.name}`), readOnly, volume };
      });
      const where = `${workload}/${c.name}`;
      const preStop = one(one(one(c.lifecycle)?.pre_stop)?.exec)?.command;
      const probe = one(c.readiness_probe);
      return {
        name: c.name,
        command: (c.command ?? []).map((x: unknown) => literal(x, `${where} command`)),
        args: c.args?.map((x: unknown) => literal(x, `${where} args`)),
        env, runAsUser: uid, runAsGroup: gid, fsGroup, volumeMounts,
        preStop: preStop?.map((x: unknown) => literal(x, `${where} preStop`)),
        readiness: one(probe?.exec)?.command
          ? { exec: one(probe.exec).command.map((x: unknown) => literal(x, `${where} readiness`)) }
          : one(probe?.tcp_socket)?.port !== undefined ? { tcpPort: one(probe.tcp_socket).port } : undefined,
        terminationGraceSeconds: pod.termination_grace_period_seconds !== undefined ? Number(pod.termination_grace_period_seconds) : 30,
      };
    });
  }

  /** Data of a Secret from the plan (Terraform references replaced by test values), or an external one. */
  private secretData(nameOrRef: string | TerraformValue, opts: { secretValues: Record<string, string>; externalSecrets?: Record<string, Record<string, string>> }): Record<string, string> {
    const secret = this.resolveRef(nameOrRef) ?? Object.values<any>(this.json.resource.kubernetes_secret_v1 ?? {}).find((s) => s.metadata.name === nameOrRef);
    if (!secret) {
      const ext = opts.externalSecrets?.[literal(nameOrRef, 'Secret name')];
      if (!ext) throw new Error(`Secret ${nameOrRef} is neither in the plan nor given to the test`);
      return ext;
    }
    const files: Record<string, string> = {};
    for (const [k, v] of Object.entries<string | TerraformValue>(secret.data ?? {})) {
      if (v instanceof TerraformValue) {
        if (opts.secretValues[k] === undefined) throw new Error(`Secret ${secret.metadata.name} key ${k} is a Terraform value (${v}); give the test a value for it`);
        files[k] = opts.secretValues[k];
      } else {
        files[k] = v;
      }
    }
    return files;
  }
}
