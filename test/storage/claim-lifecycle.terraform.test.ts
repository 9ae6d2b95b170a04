/**
 * Claim lifecycle, with the real terraform binary (the `terraform` jest project: it takes seconds,
 * so it runs beside the unit suite, not in it).
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { SentinelRedisProps } from '../../lib';
import { VOLUME_CLAIM_TEMPLATE_PATH } from '../../lib/storage/volume-claims';
import { PVC, STS } from '../helpers';
import { build, encrypted } from './claims-fixture';

/*
 * What Terraform (the real binary, 1.11.4) does with the claims' and StatefulSets' lifecycle as
 * synthesized, on `terraform_data` stand-ins (no provider needed): each claim becomes a
 * terraform_data whose `input` is its size (updated in place, as the provider does) and whose
 * `triggers_replace` holds the fields the provider replaces it for (name, namespace, storage class);
 * each StatefulSet becomes one whose `triggers_replace` is its volume claim template (a change there
 * replaces a StatefulSet) and whose `input` is its replica count. Lifecycle and depends_on are copied
 * from the synthesized plan, addresses renamed.
 */
function plan(size: string, storageClassName: string, over: Partial<SentinelRedisProps> = {}): any {
  return build(size, over, (s) => encrypted(s, size, storageClassName)).json;
}

/** The stand-in configuration of a synthesized plan's claims and StatefulSets. */
function standIns(json: any): any {
  const rename = (address: string) => `terraform_data.${address.replace(/^[a-z0-9_]+\./, '')}`;
  const lifecycle = (l: any) => l && {
    ...l,
    ...(l.ignore_changes ? { ignore_changes: l.ignore_changes.map((p: string) => (p === VOLUME_CLAIM_TEMPLATE_PATH ? 'triggers_replace' : p)) } : {}),
  };
  const data: Record<string, any> = {};
  for (const [id, c] of Object.entries<any>(json.resource[PVC] ?? {})) {
    data[id] = {
      input: c.spec.resources.requests.storage,
      triggers_replace: [c.metadata.name, c.metadata.namespace, c.spec.storage_class_name ?? ''],
      lifecycle: lifecycle(c.lifecycle),
    };
  }
  for (const [id, s] of Object.entries<any>(json.resource[STS])) {
    data[id] = {
      input: s.spec.replicas,
      triggers_replace: JSON.stringify(s.spec.volume_claim_template ?? null),
      ...(s.depends_on ? { depends_on: s.depends_on.map(rename) } : {}),
      ...(s.lifecycle ? { lifecycle: lifecycle(s.lifecycle) } : {}),
    };
  }
  return { resource: { terraform_data: data } };
}

class Workspace {
  public readonly dir = mkdtempSync(join(tmpdir(), 'rt-claims-'));

  public run(args: string[], okCodes = [0]): string {
    const r = spawnSync('terraform', [...args, '-no-color'], {
      cwd: this.dir,
      encoding: 'utf8',
      env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0', TF_CLI_CONFIG_FILE: '/dev/null' },
      timeout: 60_000,
    });
    if (r.error) throw new Error(`this test needs the terraform binary (1.11.4) on PATH: ${r.error.message}`);
    if (!okCodes.includes(r.status ?? -1)) throw new Error(`terraform ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
    return `${r.stdout}${r.stderr}`;
  }

  /** Writes the stand-ins of `json` and applies them; returns the order of the changes. */
  public apply(json: any): string[] {
    writeFileSync(join(this.dir, 'main.tf.json'), JSON.stringify(standIns(json)));
    const out = this.run(['apply', '-auto-approve', '-parallelism=1']);
    return out.split('\n').flatMap((l) => {
      const m = /^terraform_data\.(\S+?)_[0-9A-F]{8}: (Creating|Modifying|Destroying)\.\.\./.exec(l);
      return m ? [`${{ Creating: 'create', Modifying: 'modify', Destroying: 'destroy' }[m[2]]} ${m[1]}`] : [];
    });
  }

  /** The error of a plan of `json` that Terraform refuses. */
  public refused(json: any, args: string[] = []): string {
    writeFileSync(join(this.dir, 'main.tf.json'), JSON.stringify(standIns(json)));
    return this.run(['plan', ...args], [1]).replace(/\s+/g, ' ');
  }
}

describe('claim lifecycle in Terraform: grow in place, refuse destruction, scale in after the pods', () => {
  const ws = new Workspace();
  afterAll(() => rmSync(ws.dir, { recursive: true, force: true }));

  test('the sequence a user goes through', () => {
    ws.run(['init']);
    const created = ws.apply(plan('10Gi', 'enc'));
    // Every claim is created before its StatefulSet.
    const at = (what: string) => created.indexOf(what);
    expect(at('create Cache_Data')).toBeGreaterThan(Math.max(at('create Cache_DataClaim0'), at('create Cache_DataClaim1')));
    expect(at('create Cache_Sentinel')).toBeGreaterThan(at('create Cache_SentinelStateClaim2'));

    // Growing: the claims are updated in place; the StatefulSets are left alone (template ignored).
    expect(ws.apply(plan('20Gi', 'enc')).sort()).toEqual(['modify Cache_DataClaim0', 'modify Cache_DataClaim1']);

    // Scale-out: the new claim is created before the StatefulSet is updated.
    expect(ws.apply(plan('20Gi', 'enc', { dataMembers: 3 }))).toEqual(['create Cache_DataClaim2', 'modify Cache_Data']);

    // Scale-in: the StatefulSet is updated (its pod stops) before the removed claim is destroyed.
    expect(ws.apply(plan('20Gi', 'enc', { dataMembers: 2 }))).toEqual(['modify Cache_Data', 'destroy Cache_DataClaim2']);

    // Another storage class (or a new name or namespace) would replace the claims: refused.
    const refusal = 'has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed.';
    expect(ws.refused(plan('20Gi', 'other'))).toContain(`Error: Instance cannot be destroyed`);
    expect(ws.refused(plan('20Gi', 'other'))).toContain(refusal);
    // And so is destroying the stack while the topology is in it.
    expect(ws.refused(plan('20Gi', 'enc'), ['-destroy'])).toContain(refusal);
  });
});
