import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App, TerraformStack } from '../lib/core/cdktf';
import { renderLiteral } from './terraform/template';

/** Terraform resource types the tests look up. */
export const STS = 'kubernetes_stateful_set_v1';
export const PVC = 'kubernetes_persistent_volume_claim_v1';
export const DEPLOY = 'kubernetes_deployment_v1';
export const SVC = 'kubernetes_service_v1';
export const PDB = 'kubernetes_pod_disruption_budget_v1';
export const CM = 'kubernetes_config_map_v1';
export const SECRET = 'kubernetes_secret_v1';
export const NP = 'kubernetes_network_policy_v1';

/** A synthesized stack, parsed, with lookups by Terraform resource type. */
export class Synthed {
  constructor(public readonly json: any) {}

  /** Every resource of a type, keyed by logical id. */
  public resources(type: string): Record<string, any> {
    return this.json.resource?.[type] ?? {};
  }

  /** The bodies of every resource of a type, in logical-id order. */
  public list(type: string): any[] {
    return Object.values(this.resources(type));
  }

  /** The one resource of a type whose metadata.name is `name`. */
  public named(type: string, name: string, namespace?: string): any {
    const found = this.list(type).filter((r) => r.metadata?.name === name && (namespace === undefined || r.metadata?.namespace === namespace));
    if (found.length !== 1) {
      throw new Error(`expected one ${type} named ${name}, found ${found.length}: ${this.list(type).map((r) => r.metadata?.name).join(', ')}`);
    }
    return found[0];
  }

  /**
   * The `data` of the one ConfigMap (or Secret) named `name` as Terraform delivers it to the
   * cluster: literal text with the template escapes read (`$${` is `${`). Throws for a value
   * that Terraform would evaluate.
   */
  public renderedData(type: string, name: string): Record<string, string> {
    return Object.fromEntries(Object.entries<string>(this.named(type, name).data ?? {}).map(([k, v]) => [renderLiteral(k), renderLiteral(v)]));
  }

  public outputs(): Record<string, any> {
    return this.json.output ?? {};
  }
}

/**
 * One output folder per test process, removed when it exits. Testing.app() would otherwise make a
 * new cdktf.outdir.* folder in the system temp folder for every app and leave it there.
 */
let outdir: string | undefined;
export function testApp(): App {
  if (outdir === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-test-outdir-'));
    outdir = dir;
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return Testing.app({ outdir });
}

/** Builds constructs inside a fresh stack with a kubernetes provider and returns the synthesized JSON. */
export function synth(build: (stack: TerraformStack) => void): Synthed {
  const app = testApp();
  const stack = new TerraformStack(app, 'test');
  new KubernetesProvider(stack, 'kubernetes', {});
  build(stack);
  return new Synthed(JSON.parse(Testing.synth(stack)));
}

/** A stack to build in, for tests that expect construction to throw. */
export function emptyStack(): Construct {
  const app: App = testApp();
  return new TerraformStack(app, 'test');
}
