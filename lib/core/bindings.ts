/**
 * Provider bindings that are loaded when a construct first needs them rather than when the library
 * is loaded: each is about 5 MB of JavaScript (its nested config classes), which every process that
 * loads the library (every other topology, every test file) would otherwise pay for. Deep paths, as
 * everywhere; the files that use them import the class as a type only.
 */
import type { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import type { JobV1 } from '@cdktf/provider-kubernetes/lib/job-v1';
import type { CronJobV1 } from '@cdktf/provider-kubernetes/lib/cron-job-v1';

/** kubernetes_deployment_v1 (portals, cluster proxies). */
export function deploymentV1Binding(): typeof DeploymentV1 {
  return (require('@cdktf/provider-kubernetes/lib/deployment-v1') as typeof import('@cdktf/provider-kubernetes/lib/deployment-v1')).DeploymentV1;
}

/** kubernetes_job_v1 (the cluster bootstrap). */
export function jobV1Binding(): typeof JobV1 {
  return (require('@cdktf/provider-kubernetes/lib/job-v1') as typeof import('@cdktf/provider-kubernetes/lib/job-v1')).JobV1;
}

/** kubernetes_cron_job_v1 (scheduled backups). */
export function cronJobV1Binding(): typeof CronJobV1 {
  return (require('@cdktf/provider-kubernetes/lib/cron-job-v1') as typeof import('@cdktf/provider-kubernetes/lib/cron-job-v1')).CronJobV1;
}
