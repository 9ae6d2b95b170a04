import { SentinelRedis } from '../../lib';
import { DataStorage } from '../../lib/storage/data-storage';
import { Plan, TerraformValue } from '../live/plan-pods';
import { CM, SECRET, synth } from '../helpers';

/** The live harness boots what Terraform delivers, and nothing Terraform would refuse. */
describe('live harness plan reader', () => {
  let redis!: SentinelRedis;
  const out = synth((stack) => {
    redis = new SentinelRedis(stack, 'Cache', { namespace: 'data', storage: DataStorage.ephemeral() });
  });

  test('ConfigMap data reaches the pods as Terraform renders it: the renderers\' text, escapes read', () => {
    const plan = new Plan(out.json);
    const raw = out.named(CM, 'cache-scripts').data['common.sh'];
    expect(raw).toContain('$${POD_NAME##*-}');
    const delivered = Object.values<any>(plan.json.resource.kubernetes_config_map_v1).find((c) => c.metadata.name === 'cache-scripts');
    expect(delivered.data['common.sh']).toBe(redis.scriptFiles['common.sh']);
    expect(delivered.data['common.sh']).toContain('${POD_NAME##*-}');
  });

  test('values Terraform computes are TerraformValue objects, never strings', () => {
    const plan = new Plan(out.json);
    const secret = Object.values<any>(plan.json.resource[SECRET]).find((s) => s.metadata.name === 'cache-auth');
    expect(secret.data.password).toBeInstanceOf(TerraformValue);
    expect(String(secret.data.password)).toMatch(/^\$\{random_password\.\w+\.result\}$/);
  });

  test('a plan Terraform would refuse fails before any pod starts, naming what is wrong', () => {
    const broken = JSON.parse(JSON.stringify(out.json));
    const cm = Object.values<any>(broken.resource[CM]).find((c) => c.metadata.name === 'cache-scripts');
    cm.data['common.sh'] = cm.data['common.sh'].replace('$${POD_NAME##*-}', () => '${POD_NAME##*-}');
    expect(() => new Plan(broken)).toThrow(/Terraform would refuse this plan; no pod is started:\n.*data\["common\.sh"\]: "POD_NAME" is not a reference/);
  });
});
