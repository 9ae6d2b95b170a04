import { Construct } from 'constructs';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { Password } from '@cdktf/provider-random/lib/password';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { terraformLiterals } from '../core/escaping';
import { ensureProvider } from '../core/providers';
import { kubernetesObject } from '../core/registry';
import { aclPasswordKey, RedisAuth, RedisAuthSecretRef } from './redis-auth';

/** Where a topology's auth Secret goes and what it holds. */
export interface AuthSecretOptions {
  readonly auth: RedisAuth;
  /** ACL user names: each gets a generated password under `acl-<name>`. */
  readonly aclUserNames: readonly string[];
  /** The Secret's name (`<topology>-auth`) and namespace. */
  readonly secretName: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
}

/** The topology's Secret reference and, for generated passwords, the sensitive Terraform reference to the main one. */
export interface AuthSecret {
  readonly ref: RedisAuthSecretRef;
  /** The generated password (a Terraform reference), undefined with RedisAuth.fromExistingSecret. */
  readonly password?: string;
}

/**
 * The auth Secret of a topology. With RedisAuth.generated() Terraform generates the password and one
 * per ACL user (random_password `Password` and `AclPassword-<user>`, children of `scope`: their ids
 * depend only on the user name, so reordering users rotates nothing) and writes them into the Secret
 * `AuthSecret`; the passwords are in Terraform state. With RedisAuth.fromExistingSecret() nothing is
 * created and the pods mount the user's Secret.
 */
export function authSecret(scope: Construct, o: AuthSecretOptions): AuthSecret {
  if (o.auth.source !== 'generated') {
    return { ref: { secretName: o.auth.existingSecretName!, passwordKey: o.auth.passwordKey } };
  }
  ensureProvider(scope, 'random', (stack) => new RandomProvider(stack, 'random'));
  const main = new Password(scope, 'Password', terraformLiterals({ length: o.auth.length, special: false }));
  const data: Record<string, string> = { [o.auth.passwordKey]: main.result };
  for (const user of o.aclUserNames) {
    data[aclPasswordKey(user)] = new Password(scope, `AclPassword-${user}`, terraformLiterals({ length: o.auth.length, special: false })).result;
  }
  const secret = new SecretV1(scope, 'AuthSecret', kubernetesObject(scope, 'Secret', {
    metadata: { name: o.secretName, namespace: o.namespace, labels: o.labels },
    type: 'Opaque',
    data,
  }));
  return { ref: { secretName: secret.metadata.name!, passwordKey: o.auth.passwordKey }, password: main.result };
}
