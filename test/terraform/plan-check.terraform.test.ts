import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { IConstruct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { buildExamples } from '../../examples/main';
import { TerraformStack } from '../../lib/core/cdktf';
import { synth } from '../helpers';
import { checkPlans, formatFinding, PlanCheckResult, scanPlan, TerraformMissingError, terraformRender, terraformVersion } from './plan-check';

/** The example app, synthesized to a scratch folder, with its stacks parsed. */
function examples() {
  const dir = mkdtempSync(join(tmpdir(), 'rt-plan-check-'));
  const app = buildExamples(dir);
  app.synth();
  const stacks: Record<string, any> = {};
  for (const name of readdirSync(join(dir, 'stacks'))) {
    stacks[name] = JSON.parse(readFileSync(join(dir, 'stacks', name, 'cdk.tf.json'), 'utf8'));
  }
  rmSync(dir, { recursive: true, force: true });
  return { app, stacks };
}

/** Topology constructs that render files (SentinelRedis, HaproxyPortal, ...) and their ConfigMaps. */
function renderedConfigMaps(root: IConstruct) {
  const out: Array<{ stack: string; address: string; files: Record<string, string> }> = [];
  for (const c of root.node.findAll()) {
    const t = c as unknown as { configFiles?: Record<string, string>; scriptFiles?: Record<string, string> };
    if (!t.configFiles) continue;
    const files = { ...t.configFiles, ...t.scriptFiles };
    for (const child of c.node.children) {
      if (!(child instanceof ConfigMapV1)) continue;
      const stack = TerraformStack.of(child);
      out.push({ stack: stack.node.id, address: `kubernetes_config_map_v1.${stack.getLogicalId(child)}`, files });
    }
  }
  return out;
}

// Synthesized once for the whole file.
const { app, stacks } = examples();

describe('plan check: every example plan is what Terraform accepts and renders', () => {
  let result: PlanCheckResult;
  beforeAll(() => {
    result = checkPlans(stacks);
  });

  test('terraform 1.11.4 is the binary that checks (the check fails, never skips, without it)', () => {
    expect(terraformVersion()).toBe('1.11.4');
  });

  test('zero findings: every ${...} references a declared object, no stray %{, terraform renders and validates every string', () => {
    expect(result.findings.map(formatFinding)).toEqual([]);
    expect(Object.keys(stacks).sort()).toEqual(['cluster', 'flash', 'platform', 'sentinel']);
    expect(result.stringsChecked).toBeGreaterThan(500);
    expect(result.withReferences).toBeGreaterThan(10);
  });

  test('terraform renders each ConfigMap of rendered files to exactly what the renderers produced', () => {
    const maps = renderedConfigMaps(app);
    expect(maps.length).toBeGreaterThanOrEqual(3);
    let compared = 0;
    for (const m of maps) {
      const [type, name] = m.address.split('.');
      const data: Record<string, string> = stacks[m.stack].resource[type][name].data;
      for (const [key, raw] of Object.entries(data)) {
        expect({ address: m.address, key, text: result.rendered.get(raw) }).toEqual({ address: m.address, key, text: m.files[key] });
        compared += 1;
      }
    }
    // The escaping is exercised: shell parameter expansions and HAProxy's "${REDIS_AUTH_HEX}" are in there.
    const texts = maps.flatMap((m) => Object.values(m.files)).join('\n');
    expect(texts).toContain('${POD_NAME##*-}');
    expect(texts).toContain('"${REDIS_AUTH_HEX}"');
    expect(compared).toBeGreaterThanOrEqual(8);
  });
});

describe('plan check: it catches what Terraform would refuse', () => {

  test('an unescaped ${x} planted in a rendered script fails it, naming the resource, path and snippet', () => {
    const planted = JSON.parse(JSON.stringify(stacks.sentinel));
    const [id, cm] = Object.entries<any>(planted.resource.kubernetes_config_map_v1).find(([, r]) => r.metadata.name === 'sessions-scripts')!;
    cm.data['common.sh'] += '\necho "waited ${x}s"\n';
    const findings = scanPlan('sentinel', planted);
    const mine = findings.filter((f) => f.address === `kubernetes_config_map_v1.${id}` && f.path === 'data["common.sh"]');
    expect(mine.length).toBeGreaterThanOrEqual(1);
    expect(mine[0].snippet).toContain('${x}');
    expect(formatFinding(mine[0])).toMatch(/^sentinel: kubernetes_config_map_v1\.\S+ data\["common\.sh"\]: .*"x" is not a reference Terraform knows/);
  });

  test('shell expansions, stray directives and references to undeclared objects are findings; escaped text and real references are not', () => {
    const out = synth((stack) => {
      const ok = new ConfigMapV1(stack, 'Ok', { metadata: { name: 'ok' }, data: { a: 'echo $${waited}s %%{x}' } });
      new ConfigMapV1(stack, 'Bad', {
        metadata: { name: 'bad', namespace: ok.metadata.namespace },
        data: {
          expansion: ': "${POD_NAME:?must be set}"',
          default: 'x=${1:-}',
          directive: 'log-format %{+Q}o',
          undeclared: '${kubernetes_secret_v1.nope.metadata[0].name}',
          ref: `${ok.metadata.name}-copy`,
        },
      });
    });
    const findings = scanPlan('test', out.json);
    const byPath = (p: string) => findings.filter((f) => f.address === 'kubernetes_config_map_v1.Bad' && f.path === p).map((f) => f.problem);
    expect(byPath('data.expansion')).toEqual(expect.arrayContaining([expect.stringContaining('"POD_NAME" is not a reference')]));
    expect(byPath('data.default')).toEqual([expect.stringContaining('references nothing the configuration declares')]);
    expect(byPath('data.directive')).toEqual([expect.stringContaining('not a Terraform directive')]);
    expect(byPath('data.undeclared')).toEqual([expect.stringContaining('undeclared resource kubernetes_secret_v1.nope')]);
    expect(byPath('data.ref')).toEqual([]);
    expect(byPath('metadata.namespace')).toEqual([]);
    expect(findings.filter((f) => f.address === 'kubernetes_config_map_v1.Ok')).toEqual([]);
  });

  test('terraform validate catches a bad expression behind a declared reference', () => {
    const out = synth((stack) => {
      new ConfigMapV1(stack, 'Ok', { metadata: { name: 'ok' } });
      // Written raw (not through terraformLiterals), as a construct that forgot the escaping would.
      new ConfigMapV1(stack, 'Bad', { metadata: { name: 'bad' }, data: { fn: '${nosuchfunction(kubernetes_config_map_v1.Ok.metadata[0].name)}' } });
    });
    const { findings } = checkPlans({ test: out.json });
    expect(findings.map(formatFinding)).toEqual([expect.stringMatching(/^test: kubernetes_config_map_v1\.Bad data\.fn: terraform validate: Call to unknown function/)]);
  });

  test('a planted double escape ($$${) renders differently from the renderer, and the comparison sees it', () => {
    const planted = JSON.parse(JSON.stringify(stacks.sentinel));
    const [id, cm] = Object.entries<any>(planted.resource.kubernetes_config_map_v1).find(([, r]) => r.metadata.name === 'sessions-scripts')!;
    cm.data['redis-entrypoint.sh'] = cm.data['redis-entrypoint.sh'].replace('$${waited}s', () => '$$${waited}s');
    // Only the planted string goes through terraform (the rest of the plan is checked above).
    const rendered = terraformRender([cm.data['redis-entrypoint.sh']]);
    const files = renderedConfigMaps(app).find((m) => m.address === `kubernetes_config_map_v1.${id}`)!.files;
    expect(files['redis-entrypoint.sh']).toContain('${waited}s');
    expect(rendered.get(cm.data['redis-entrypoint.sh'])).toContain('$${waited}s');
    expect(rendered.get(cm.data['redis-entrypoint.sh'])).not.toBe(files['redis-entrypoint.sh']);
  });

  test('without terraform on PATH the check fails and says so', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => checkPlans({ sentinel: stacks.sentinel })).toThrow(TerraformMissingError);
      expect(() => checkPlans({ sentinel: stacks.sentinel })).toThrow(/needs the terraform binary/);
    } finally {
      process.env.PATH = path;
    }
  });
});
