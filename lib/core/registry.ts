import { IConstruct } from 'constructs';
import { TerraformStack } from './cdktf';
import { terraformLiterals } from './escaping';
import { isUnresolved } from './validation';

/**
 * One registry per stack of every Kubernetes object (kind, namespace, name) and every Terraform
 * output name that the library's constructs create. A second claim of the same object or output
 * fails while the second construct is built, naming both construct paths: two topologies with one
 * name in one namespace, a portal named like its backend, or `cache` beside `cache-sentinel` would
 * otherwise yield duplicate objects that Kubernetes and Terraform fight over.
 *
 * Names or namespaces that are Terraform tokens cannot be compared at synth time; they are not
 * registered (Kubernetes refuses a duplicate at apply time).
 */
interface Registry {
  readonly objects: Map<string, string>;
  readonly outputs: Map<string, string>;
}

const REGISTRIES = new WeakMap<TerraformStack, Registry>();

function registryOf(scope: IConstruct): Registry {
  const stack = TerraformStack.of(scope);
  let r = REGISTRIES.get(stack);
  if (!r) {
    r = { objects: new Map(), outputs: new Map() };
    REGISTRIES.set(stack, r);
  }
  return r;
}

/** Kinds whose objects have no namespace. */
const CLUSTER_SCOPED = new Set(['StorageClass', 'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'ClusterIssuer']);

export class DuplicateObjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DuplicateObjectError';
  }
}

/** Records that `scope` creates the object; throws if another construct of the stack already does. */
export function claimObject(scope: IConstruct, kind: string, name: string, namespace?: string): void {
  if (isUnresolved(name) || (namespace !== undefined && isUnresolved(namespace))) return;
  const ns = CLUSTER_SCOPED.has(kind) ? '' : namespace ?? 'default';
  const key = `${kind}\0${ns}\0${name}`;
  const r = registryOf(scope);
  const owner = r.objects.get(key);
  const what = CLUSTER_SCOPED.has(kind) ? `${kind} "${name}"` : `${kind} "${ns}/${name}"`;
  if (owner !== undefined) {
    throw new DuplicateObjectError(`${scope.node.path}: ${what} is already created by ${owner}; give one of them another name (prop "name") or namespace`);
  }
  r.objects.set(key, scope.node.path);
}

/** Records a Terraform output name; throws if another construct of the stack already uses it. */
export function claimOutput(scope: IConstruct, outputName: string): void {
  const r = registryOf(scope);
  const owner = r.outputs.get(outputName);
  if (owner !== undefined) {
    throw new DuplicateObjectError(`${scope.node.path}: Terraform output "${outputName}" is already created by ${owner}; set "outputPrefix" on one of them`);
  }
  r.outputs.set(outputName, scope.node.path);
}

/**
 * The config of a Kubernetes resource, claimed in the stack's registry under its kind,
 * namespace and name, and escaped for Terraform's templates (see terraformLiterals).
 */
export function kubernetesObject<T extends { readonly metadata: { readonly name?: string; readonly namespace?: string } }>(scope: IConstruct, kind: string, config: T): T {
  const { name, namespace } = config.metadata;
  if (name === undefined) throw new Error(`${scope.node.path}: a ${kind} needs metadata.name`);
  claimObject(scope, kind, name, namespace);
  return terraformLiterals(config);
}
