import { Construct } from 'constructs';
import { TerraformStack } from './cdktf';

/**
 * Adds a provider to the scope's stack unless the stack already configures one of that type
 * (e.g. 'random', 'tls'), so several topologies in one stack share it and a user's own
 * provider block wins.
 */
export function ensureProvider(scope: Construct, type: string, create: (stack: TerraformStack) => void): void {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.findAll().some((c) => {
    const r = c as unknown as { terraformResourceType?: string; terraformProviderSource?: string };
    return r.terraformResourceType === type && r.terraformProviderSource !== undefined;
  });
  if (!existing) create(stack);
}
