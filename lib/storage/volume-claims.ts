import { Construct } from 'constructs';
import { PersistentVolumeClaimV1 } from '@cdktf/provider-kubernetes/lib/persistent-volume-claim-v1';
import { kubernetesObject } from '../core/registry';
import { PropsValidator } from '../core/validation';

/**
 * Terraform-managed PersistentVolumeClaims for the pods of a StatefulSet, so storage grows in place.
 *
 * The provider (hashicorp/kubernetes 2.38) never sends a change of a StatefulSet's
 * `volume_claim_template` to the cluster (hashicorp/terraform-provider-kubernetes#2049: a new size
 * plans as an update and stays a diff forever), and a new storage class or access mode in the
 * template replaces the StatefulSet. So each pod's claim is a `kubernetes_persistent_volume_claim_v1`
 * of its own, named as the StatefulSet controller names it (`<template>-<statefulset>-<ordinal>`):
 * the controller finds it and does not create one. A larger `requests.storage` is patched in place.
 * The StatefulSet keeps the template (the controller needs its name to mount the claims) and ignores
 * later changes to it (see {@link StatefulSetClaims.lifecycle}).
 *
 * Each claim has `prevent_destroy`: what the provider can only do by destroying the claim and its
 * data (a smaller size, another storage class, a new name or namespace) fails the plan instead.
 * Removing a claim from the config, as a scale-in does, still destroys it.
 */

/** The volume_claim_template block of a StatefulSet (cdktf spelling). */
export interface VolumeClaimTemplate {
  readonly metadata: { readonly name: string; readonly labels: Record<string, string>; readonly annotations: Record<string, string> };
  readonly spec: {
    readonly accessModes: string[];
    readonly storageClassName: string | undefined;
    readonly resources: { readonly requests: Record<string, string> };
  };
}

/** Where the claims of one StatefulSet go, and who they are for. */
export interface StatefulSetClaimsOptions {
  /** The volume claim template's name, which is also the pod volume's name, e.g. `data`. */
  readonly templateName: string;
  /** The StatefulSet's metadata.name. */
  readonly statefulSetName: string;
  /** The StatefulSet's namespace. */
  readonly namespace: string;
  /** The StatefulSet's replicas: one claim per ordinal, 0 to replicas - 1. Must be known at synth. */
  readonly replicas: number;
  /** The prop of the topology that sets `replicas`, for the message when it is a Terraform token. @default 'replicas' */
  readonly replicasProp?: string;
  /** Labels of the claims (and of the template). Include the StatefulSet's selector labels: the controller adds them to the claims it would create. */
  readonly labels: Record<string, string>;
  /** Claim size. @default the storage's size */
  readonly size?: string;
}

/** A StatefulSet's claims and what its config needs to leave them to Terraform. */
export interface StatefulSetClaims {
  /** The StatefulSet's `volumeClaimTemplate`; undefined for ephemeral storage (an emptyDir). */
  readonly template: VolumeClaimTemplate[] | undefined;
  /** One claim per pod, by ordinal; empty for ephemeral storage. */
  readonly claims: PersistentVolumeClaimV1[];
  /**
   * The StatefulSet's `lifecycle`: changes to its volume claim template are ignored, the claims carry
   * them (a change inside the template would otherwise never reach the cluster, or replace the
   * StatefulSet). Undefined for ephemeral storage: adding or removing the template (a switch between
   * ephemeral and persistent storage) must still replace the StatefulSet.
   */
  readonly lifecycle: { readonly ignoreChanges: string[] } | undefined;
  /** The StatefulSet's `dependsOn`: a new pod's claim exists before the controller creates the pod. Undefined for ephemeral storage. */
  readonly dependsOn: PersistentVolumeClaimV1[] | undefined;
}

/** The Terraform attribute path of a StatefulSet's volume claim templates, for `ignore_changes`. */
export const VOLUME_CLAIM_TEMPLATE_PATH = 'spec[0].volume_claim_template';

/** The name the StatefulSet controller gives the claim of template `templateName` for pod `ordinal`. */
export function statefulSetClaimName(templateName: string, statefulSetName: string, ordinal: number): string {
  return `${templateName}-${statefulSetName}-${ordinal}`;
}

/** What a persistent storage puts in every claim. */
export interface ClaimStorage {
  readonly storageClassName: string | undefined;
  /** The `redis-topologies.io/encryption` annotation. */
  readonly description: string;
  readonly size: string;
}

/** The volume claim template `templateName` on `storage`. */
export function volumeClaimTemplate(templateName: string, labels: Record<string, string>, storage: ClaimStorage): VolumeClaimTemplate[] {
  return [{
    metadata: { name: templateName, labels, annotations: { 'redis-topologies.io/encryption': storage.description } },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: storage.storageClassName,
      resources: { requests: { storage: storage.size } },
    },
  }];
}

/**
 * The template and one `kubernetes_persistent_volume_claim_v1` per ordinal, children of `scope` with
 * ids `<idPrefix><ordinal>` (`DataClaim0`, `DataClaim1`, ...): the ids (and so the Terraform
 * addresses) depend on nothing but the ordinal, so a scale-out adds claims and keeps the others.
 * Throws a validation error when `replicas` is a Terraform token.
 */
export function statefulSetClaims(scope: Construct, idPrefix: string, storage: ClaimStorage, o: StatefulSetClaimsOptions): StatefulSetClaims {
  const v = new PropsValidator(scope);
  v.known(o.replicasProp ?? 'replicas', o.replicas, 'one PersistentVolumeClaim per pod is created, named by its ordinal');
  v.throwIfInvalid();
  if (!Number.isInteger(o.replicas) || o.replicas < 0) {
    throw new Error(`${scope.node.path}: ${o.replicasProp ?? 'replicas'} must be an integer >= 0 for the volume claims, got ${o.replicas}`);
  }
  const template = volumeClaimTemplate(o.templateName, o.labels, storage);
  const claims = Array.from({ length: o.replicas }, (_, ordinal) => new PersistentVolumeClaimV1(scope, `${idPrefix}${ordinal}`, kubernetesObject(scope, 'PersistentVolumeClaim', {
    metadata: {
      name: statefulSetClaimName(o.templateName, o.statefulSetName, ordinal),
      namespace: o.namespace,
      labels: { ...template[0].metadata.labels },
      annotations: { ...template[0].metadata.annotations },
    },
    spec: {
      accessModes: [...template[0].spec.accessModes],
      storageClassName: storage.storageClassName,
      resources: { requests: { storage: storage.size } },
    },
    // A WaitForFirstConsumer class binds the claim only when its pod is scheduled, and the pod comes
    // after the claim: waiting for Bound would block the apply until the create timeout.
    waitUntilBound: false,
    lifecycle: {
      // A smaller size, another storage class, name or namespace can only be made by destroying the
      // claim and its data: the plan fails instead (and `cdktf destroy` too).
      preventDestroy: true,
      // Orders a removed claim's destroy (a scale-in) after the StatefulSet's update: the pod that
      // mounts it is gone by then. Without it Terraform deletes the claim first, and the delete waits
      // on kubernetes.io/pvc-protection while the pod still runs. Replacements are refused anyway.
      createBeforeDestroy: true,
    },
  })));
  return { template, claims, lifecycle: { ignoreChanges: [VOLUME_CLAIM_TEMPLATE_PATH] }, dependsOn: claims };
}
