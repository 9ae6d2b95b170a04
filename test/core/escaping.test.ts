import { readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { TerraformVariable } from '../../lib/core/cdktf';
import { emptyStack, synth } from '../helpers';
import { escapeTemplateLiteral, escapeTemplateText, terraformLiterals, unescapeTemplateLiteral } from '../../lib/core/escaping';
import { renderLiteral } from '../terraform/template';

describe('escaping of literal text for Terraform templates', () => {
  test('${ and %{ are escaped; lone $ and % are not; the reader gets the text back', () => {
    const text = 'a ${b} %{c} $$${d} $x %s 100% ${1:-} %%{e}';
    const escaped = escapeTemplateLiteral(text);
    expect(escaped).toBe('a $${b} %%{c} $$$${d} $x %s 100% $${1:-} %%%{e}');
    expect(unescapeTemplateLiteral(escaped)).toBe(text);
    expect(renderLiteral(escaped)).toBe(text);
  });

  test('tokens stay references; only the literal text around them is escaped', () => {
    const out = synth((stack) => {
      const ns = new TerraformVariable(stack, 'ns', { type: 'string' });
      new ConfigMapV1(stack, 'Cm', terraformLiterals({
        metadata: { name: 'cm', namespace: ns.stringValue },
        data: { 'run.sh': `echo "\${HOME:-/tmp}" in ${ns.stringValue} %{x}`, [`k\${x}`]: 'v' },
      }));
    });
    const cm = out.resources('kubernetes_config_map_v1').Cm;
    expect(cm.metadata.namespace).toBe('${var.ns}');
    expect(cm.data['run.sh']).toBe('echo "$${HOME:-/tmp}" in ${var.ns} %%{x}');
    expect(cm.data['k$${x}']).toBe('v');
  });

  test('a literal $ directly before a reference is refused (Terraform cannot write it)', () => {
    const ns = new TerraformVariable(emptyStack(), 'ns', { type: 'string' }).stringValue;
    expect(() => escapeTemplateText(`cost: $${ns}`)).toThrow(/literal "\$" directly before a Terraform reference/);
    expect(escapeTemplateText(`$ ${ns}`)).toBe(`$ ${ns}`);
  });

  test('class instances, numbers, booleans and undefined pass through; arrays and plain objects are copied', () => {
    class Thing { constructor(public readonly s = '${x}') {} }
    const thing = new Thing();
    const input = { a: [1, true, undefined, '${y}'], t: thing, n: null };
    const out = terraformLiterals(input);
    expect(out).toEqual({ a: [1, true, undefined, '$${y}'], t: thing, n: null });
    expect(out.t).toBe(thing);
    expect(input.a[3]).toBe('${y}');
  });
});

/** Every .ts file under a folder. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('one way into the plan', () => {
  test('every Terraform resource and output the library creates takes its config through terraformLiterals (Kubernetes objects through kubernetesObject)', () => {
    const libDir = join(__dirname, '..', '..', 'lib');
    const offenders: string[] = [];
    let checked = 0;
    for (const file of sources(libDir)) {
      const text = readFileSync(file, 'utf8');
      // Classes imported from provider bindings, plus cdktf's TerraformOutput.
      const classes = new Set<string>(['TerraformOutput']);
      // `import type` too: a binding loaded on first use (require) is named by a type-only import.
      for (const m of text.matchAll(/import (?:type )?\{([^}]+)\} from '@cdktf\/provider-[a-z]+\/lib\/[^']+';/g)) {
        m[1].split(',').map((s) => s.trim()).filter(Boolean).forEach((c) => classes.add(c));
      }
      for (const m of text.matchAll(/new ([A-Z][A-Za-z0-9]*)\(([^,()]+), ([^,]+|`[^`]*`), /g)) {
        if (!classes.has(m[1]) || m[1].endsWith('Provider')) continue;
        checked += 1;
        const rest = text.slice(m.index! + m[0].length);
        // Kubernetes objects also claim their (kind, namespace, name) in the stack's registry; data
        // sources (Data*) read objects and create none.
        const isKubernetes = new RegExp(`import (?:type )?\\{[^}]*\\b${m[1]}\\b[^}]*\\} from '@cdktf/provider-kubernetes/`).test(text) && m[1] !== 'Manifest' && !m[1].startsWith('Data');
        const ok = isKubernetes ? rest.startsWith(`kubernetesObject(${m[2]}, '`) : rest.startsWith('terraformLiterals(');
        if (!ok) offenders.push(`${file.slice(libDir.length + 1)}: new ${m[1]}(${m[2]}, ${m[3]}, ...`);
      }
    }
    expect(offenders).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(30);
  });
});
