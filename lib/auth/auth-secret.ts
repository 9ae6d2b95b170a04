import { Construct } from 'constructs';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { Password } from '@cdktf/provider-random/lib/password';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { terraformLiterals } from '../core/escaping';
import { ensureProvider } from '../core/providers';
import { kubernetesObject } from '../core/registry';
import { isDnsSubdomain } from '../core/names';
import { PropsValidator } from '../core/validation';
import { ACL_PERMISSIONS_FACTORIES, AclPermissions, AclUser, authChangingAclRule } from './acl';
import { aclPasswordKey, RedisAuth, REDIS_AUTH_FACTORIES, RedisAuthSecretRef } from './redis-auth';

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

/** Checks the `auth` and `aclUsers` props every topology takes. */
export function validateAuth(v: PropsValidator, auth: RedisAuth | undefined, aclUsers: AclUser[] | undefined): void {
  if (v.option('auth', auth, RedisAuth, REDIS_AUTH_FACTORIES)) {
    const a = auth ?? RedisAuth.generated();
    if (a.source === 'existing') {
      v.check('auth.secretName', a.existingSecretName, isDnsSubdomain, 'a Secret name');
    } else {
      v.integer('auth.length', a.length, 16, 128);
    }
    v.check('auth.passwordKey', a.passwordKey, (k) => /^[-._a-zA-Z0-9]+$/.test(k), 'a Secret key');
  }
  if (v.type('aclUsers', aclUsers, 'array', 'a list of { name, permissions? }')) {
    const seen = new Set<string>();
    (aclUsers ?? []).forEach((u, i) => {
      if (!v.required(`aclUsers[${i}]`, u, 'object', 'an ACL user { name, permissions? }')) return;
      v.check(`aclUsers[${i}].name`, u.name, (n) => typeof n === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(n) && n !== 'default', 'letters, digits, "-" and "_", at most 32, not "default"');
      // The user's password resource is identified by the user name (reordering users must not
      // rotate passwords), so the name is needed when the plan is written.
      v.known(`aclUsers[${i}].name`, u.name, 'the user\'s password is a resource identified by its name');
      if (seen.has(u.name)) v.fail(`aclUsers[${i}].name`, u.name, 'a name not used by another ACL user');
      seen.add(u.name);
      if (v.option(`aclUsers[${i}].permissions`, u.permissions, AclPermissions, ACL_PERMISSIONS_FACTORIES) && u.permissions) {
        const rules = u.permissions.rules;
        if (v.check(`aclUsers[${i}].permissions`, rules, (r) => typeof r === 'string' && r.trim().length > 0 && !/[\r\n]/.test(r), 'non-empty ACL rules on one line')) {
          const bad = authChangingAclRule(rules);
          if (bad !== undefined) {
            v.fail(`aclUsers[${i}].permissions`, rules, `ACL rules without "${bad}": rules that change a user's password or on/off state would remove or bypass its authentication (the library sets each user's password from its Secret)`);
          }
        }
      }
    });
  }
}
