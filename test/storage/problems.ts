import { RedisTopologyValidationError } from '../../lib';

/** Terraform type of the StorageClass resource. */
export const SC = 'kubernetes_storage_class_v1';
export const NAME_ALLOWED = 'a StorageClass name: a DNS-1123 subdomain (dot-separated labels of lower-case letters, digits and "-", at most 253 characters)';

/** The lines of the validation error that building throws (fails the test if nothing is thrown). */
export function problems(build: () => unknown): string[] {
  try {
    build();
  } catch (e) {
    if (!(e instanceof RedisTopologyValidationError)) throw e;
    return e.message.split('\n');
  }
  throw new Error('expected a RedisTopologyValidationError, nothing was thrown');
}
