// The README's TypeScript is true: every ```ts block is type-checked against lib/ (one in-process
// TypeScript program for all of them) and then run. A block that builds its own App and calls
// app.synth() runs as written; a partial block gets a small prelude (below) for the names it uses
// without defining them, runs inside the prelude's stack and is synthesized. Construction errors
// (prop validation) therefore fail here, with the block's README line.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as ts from 'typescript';

const root = join(__dirname, '..');
const README = join(root, 'README.md');
const LIB = join(root, 'lib', 'index.ts');
/** The cdktf facade, which the prelude imports App and TerraformStack from (the only cdktf path tests may use). */
const FACADE = join(root, 'lib', 'core', 'cdktf');

/** One ```ts block of a Markdown file. */
interface Snippet {
  /** README line of the block's first code line (the line after the fence). */
  readonly line: number;
  readonly code: string;
}

/** Every ```ts (or ```typescript) block, in order. */
function extractSnippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`README.md:${i + 1}: a \`\`\`ts block is never closed`);
    snippets.push({ line: i + 2, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return snippets;
}

/**
 * What a partial snippet may use without defining it: "a snippet that uses identifier X gets this
 * code first". `needs` lists entries the code itself uses. A snippet that uses a name it does not
 * define and that has no entry here fails the type check with a message naming this table.
 */
interface PreludeEntry {
  readonly code: string;
  readonly needs?: string[];
}
const fromLib = (name: string): PreludeEntry => ({ code: `import { ${name} } from 'redis-topologies';` });
const PRELUDE: Record<string, PreludeEntry> = {
  App: { code: `import { App } from '${FACADE}';` },
  TerraformStack: { code: `import { TerraformStack } from '${FACADE}';` },
  KubernetesProvider: { code: "import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';" },
  AccessClient: fromLib('AccessClient'),
  AccessGrant: fromLib('AccessGrant'),
  DataStorage: fromLib('DataStorage'),
  EncryptedStorageClass: fromLib('EncryptedStorageClass'),
  HaproxyPortal: fromLib('HaproxyPortal'),
  SentinelRedis: fromLib('SentinelRedis'),
  Backups: fromLib('Backups'),
  ShardedRedisCluster: fromLib('ShardedRedisCluster'),
  StorageEncryption: fromLib('StorageEncryption'),
  app: { code: 'const app = new App();', needs: ['App'] },
  stack: {
    code: "const stack = new TerraformStack(app, 'readme'); new KubernetesProvider(stack, 'kubernetes', {});",
    needs: ['app', 'TerraformStack', 'KubernetesProvider'],
  },
  platform: {
    code: "const platform = new TerraformStack(app, 'platform'); new KubernetesProvider(platform, 'kubernetes', {});",
    needs: ['app', 'TerraformStack', 'KubernetesProvider'],
  },
  appStack: {
    code: "const appStack = new TerraformStack(app, 'shop'); new KubernetesProvider(appStack, 'kubernetes', {});",
    needs: ['app', 'TerraformStack', 'KubernetesProvider'],
  },
  // As the SentinelRedis section's block defines it: the class, not the DataStorage.
  storage: {
    code: "const storage = new EncryptedStorageClass(stack, 'RedisStorage', { encryption: StorageEncryption.awsEbs() });",
    needs: ['stack', 'EncryptedStorageClass', 'StorageEncryption'],
  },
  redis: {
    code: "const redis = new SentinelRedis(stack, 'Sessions', { namespace: 'redis-system', storage: DataStorage.encrypted(new EncryptedStorageClass(stack, 'ReadmeRedisStorage', { encryption: StorageEncryption.awsEbs() }), '10Gi') });",
    needs: ['stack', 'SentinelRedis', 'DataStorage', 'EncryptedStorageClass', 'StorageEncryption'],
  },
};

/** A snippet made into a module: its prelude lines, its code, then (for a partial one) the synth. */
interface SnippetFile extends Snippet {
  readonly fileName: string;
  readonly text: string;
  /** Lines before the snippet's first line. */
  readonly preludeLines: number;
  /** Names the prelude defines, in order. */
  readonly prelude: string[];
  /** Builds its own App and calls synth. */
  readonly complete: boolean;
  /** Synthesizes (complete, or partial with the prelude's app). */
  readonly synthesizes: boolean;
}

const DECLARATION_NAME_PARENTS = new Set([
  ts.SyntaxKind.VariableDeclaration, ts.SyntaxKind.Parameter, ts.SyntaxKind.FunctionDeclaration, ts.SyntaxKind.ClassDeclaration,
  ts.SyntaxKind.InterfaceDeclaration, ts.SyntaxKind.TypeAliasDeclaration, ts.SyntaxKind.EnumDeclaration, ts.SyntaxKind.BindingElement,
  ts.SyntaxKind.ImportSpecifier, ts.SyntaxKind.ImportClause, ts.SyntaxKind.NamespaceImport, ts.SyntaxKind.ImportEqualsDeclaration,
  ts.SyntaxKind.FunctionExpression, ts.SyntaxKind.ClassExpression, ts.SyntaxKind.MethodDeclaration, ts.SyntaxKind.PropertyDeclaration,
  ts.SyntaxKind.PropertySignature, ts.SyntaxKind.MethodSignature, ts.SyntaxKind.PropertyAssignment, ts.SyntaxKind.PropertyAccessExpression,
  ts.SyntaxKind.GetAccessor, ts.SyntaxKind.SetAccessor, ts.SyntaxKind.EnumMember, ts.SyntaxKind.TypeParameter, ts.SyntaxKind.LabeledStatement,
]);

/** The names a snippet declares and the names it refers to, syntactically. */
function scan(code: string): { declared: Set<string>; used: Set<string>; newsApp: boolean; callsSynth: boolean } {
  const source = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.ES2022, true);
  const declared = new Set<string>();
  const used = new Set<string>();
  let newsApp = false;
  let callsSynth = false;
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      const isName = DECLARATION_NAME_PARENTS.has(parent.kind) && (parent as ts.NamedDeclaration).name === node;
      if (!isName) used.add(node.text);
      else if (!ts.isPropertyAccessExpression(parent) && !ts.isPropertyAssignment(parent)) declared.add(node.text);
    }
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'App') newsApp = true;
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'synth') callsSynth = true;
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { declared, used, newsApp, callsSynth };
}

/** The prelude entries a snippet needs, dependencies first. */
function preludeFor(code: string): string[] {
  const { declared, used } = scan(code);
  const order: string[] = [];
  const add = (name: string): void => {
    if (declared.has(name) || order.includes(name)) return;
    for (const dep of PRELUDE[name].needs ?? []) add(dep);
    order.push(name);
  };
  [...used].filter((name) => name in PRELUDE).sort().forEach(add);
  return order;
}

/** A snippet as the module that is type-checked and run. */
function snippetFile(snippet: Snippet, dir: string): SnippetFile {
  const prelude = preludeFor(snippet.code);
  const { newsApp, callsSynth } = scan(snippet.code);
  const complete = newsApp && callsSynth;
  const appended = !complete && prelude.includes('app') && !callsSynth;
  const head = prelude.map((name) => PRELUDE[name].code);
  const text = [...head, snippet.code, ...(appended ? ['app.synth();'] : []), 'export {};', ''].join('\n');
  return {
    ...snippet,
    fileName: join(dir, `README.md.L${snippet.line}.ts`),
    text,
    preludeLines: head.length,
    prelude,
    complete,
    synthesizes: complete || appended || callsSynth,
  };
}

/** Compiler options: the repo's, strict, types from node only, 'redis-topologies' mapped to lib/index.ts. */
function compilerOptions(): ts.CompilerOptions {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const { options, errors } = ts.convertCompilerOptionsFromJson(config.config.compilerOptions, root);
  if (errors.length) throw new Error(errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('\n'));
  return {
    ...options,
    strict: true,
    noEmit: true,
    declaration: false,
    types: ['node'],
    // Snippets show a construct and leave it unused (`const portal = ...`): not a README error.
    noUnusedLocals: false,
    noUnusedParameters: false,
    baseUrl: root,
    paths: { 'redis-topologies': [LIB] },
  };
}

/** Diagnostic codes for a name that nothing defines. */
const UNDEFINED_NAME = new Set([2304, 2552, 2580, 2581, 2582, 18004]);

/** Type-checks all snippet files in one program; one message per diagnostic, with README lines. */
function typeCheck(files: SnippetFile[]): string[] {
  const options = compilerOptions();
  const byName = new Map(files.map((f) => [f.fileName, f]));
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const file = byName.get(fileName);
    return file ? ts.createSourceFile(fileName, file.text, languageVersion, true) : getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => byName.has(fileName) || fileExists(fileName);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => byName.get(fileName)?.text ?? readFile(fileName);

  const program = ts.createProgram({ rootNames: files.map((f) => f.fileName), options, host });
  const messages = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  for (const file of files) {
    const source = program.getSourceFile(file.fileName)!;
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      messages.push(formatDiagnostic(file, source, d));
    }
  }
  return messages;
}

function formatDiagnostic(file: SnippetFile, source: ts.SourceFile, d: ts.Diagnostic): string {
  const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  const { line, character } = source.getLineAndCharacterOfPosition(d.start ?? 0);
  if (line < file.preludeLines) {
    return `README.md:${file.line} (prelude line "${file.text.split('\n')[line]}"): TS${d.code}: ${text}`;
  }
  const where = `README.md:${file.line + line - file.preludeLines}:${character + 1}`;
  if (UNDEFINED_NAME.has(d.code) && d.start !== undefined && d.length !== undefined) {
    const name = file.text.slice(d.start, d.start + d.length);
    return `${where}: the snippet uses \`${name}\`, which neither it nor any PRELUDE entry in test/readme.test.ts defines: ` +
      `import or define it in the snippet, or add a PRELUDE entry for it (TS${d.code}: ${text})`;
  }
  return `${where}: TS${d.code}: ${text}`;
}

/** Resolves the snippets' imports: 'redis-topologies' is lib/, the rest (cdktf, providers, the facade) as usual. */
function snippetRequire(specifier: string): unknown {
  return require(specifier === 'redis-topologies' ? LIB : specifier);
}

/**
 * Runs a snippet file (transpiled to CommonJS) with CDKTF_OUTDIR in a fresh temp dir and returns the
 * stacks written there (name and parsed cdk.tf.json). Errors name the snippet's README line.
 */
function runSnippet(file: SnippetFile): Record<string, any> {
  const js = ts.transpileModule(file.text, {
    fileName: file.fileName,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  const outdir = mkdtempSync(join(tmpdir(), 'redis-topologies-readme-'));
  const previous = process.env.CDKTF_OUTDIR;
  process.env.CDKTF_OUTDIR = outdir;
  try {
    const module = { exports: {} };
    try {
      new Function('require', 'module', 'exports', js)(snippetRequire, module, module.exports);
    } catch (e) {
      throw new Error(`README.md:${file.line}: the snippet threw: ${(e as Error).message}`);
    }
    const stacksDir = join(outdir, 'stacks');
    const stacks = existsSync(stacksDir) ? readdirSync(stacksDir) : [];
    return Object.fromEntries(stacks.map((s) => {
      const plan = join(stacksDir, s, 'cdk.tf.json');
      return [s, existsSync(plan) ? JSON.parse(readFileSync(plan, 'utf8')) : undefined];
    }));
  } finally {
    if (previous === undefined) delete process.env.CDKTF_OUTDIR;
    else process.env.CDKTF_OUTDIR = previous;
    rmSync(outdir, { recursive: true, force: true });
  }
}

const VIRTUAL_DIR = join(root, '.readme-snippets');
const snippets = extractSnippets(readFileSync(README, 'utf8'));
const files = snippets.map((s) => snippetFile(s, VIRTUAL_DIR));

/** Snippets that exercise this test itself, checked in the same program (README lines are made up). */
const SELF_CHECKS = {
  undefinedName: snippetFile({ line: 10_001, code: 'const x = notDefinedAnywhere + 1;\nconsole.log(x);' }, VIRTUAL_DIR),
  wrongType: snippetFile({ line: 10_011, code: "new SentinelRedis(stack, 'Bad', {\n  namespace: 'redis-system',\n  storage,\n});" }, VIRTUAL_DIR),
  invalidProps: snippetFile({ line: 10_021, code: "new SentinelRedis(stack, 'Bad', { namespace: 'redis-system', storage: DataStorage.ephemeral(), sentinels: 2 });" }, VIRTUAL_DIR),
};

let diagnostics: string[];
let typeCheckMs: number;

beforeAll(() => {
  const start = Date.now();
  diagnostics = typeCheck([...files, ...Object.values(SELF_CHECKS)]);
  typeCheckMs = Date.now() - start;
  if (process.env.README_TEST_TIMING) process.stdout.write(`README type check: ${typeCheckMs} ms for ${files.length} snippets\n`);
}, 60_000);

/** The README line a diagnostic message names. */
const lineOf = (message: string): number => Number(/^README\.md:(\d+)/.exec(message)?.[1] ?? NaN);
/** Self-check snippets are numbered from 10001; README lines are below. */
const isSelfCheck = (message: string): boolean => lineOf(message) > 10_000;
/** The diagnostics of one self-check snippet (its code spans fewer than 10 lines). */
const diagnosticsOf = (file: SnippetFile): string[] => diagnostics.filter((d) => lineOf(d) >= file.line && lineOf(d) < file.line + 10);

describe('README.md ```ts blocks', () => {
  test('are found, and at least one is a complete app', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(4);
    expect(files.filter((f) => f.complete).length).toBeGreaterThanOrEqual(1);
  });

  test('type-check against lib/ (one program, strict)', () => {
    const readmeDiagnostics = diagnostics.filter((d) => !isSelfCheck(d));
    expect(readmeDiagnostics).toEqual([]);
  });

  test.each(files.map((f) => [f.line, f] as const))('block at README.md:%i runs and synthesizes', (_line, file) => {
    const stacks = runSnippet(file);
    if (!file.synthesizes) return;
    // Every stack wrote its stacks/<name>/cdk.tf.json, and the snippet's constructs are in one of them.
    expect(Object.keys(stacks).length).toBeGreaterThan(0);
    for (const [name, plan] of Object.entries(stacks)) expect([name, typeof plan]).toEqual([name, 'object']);
    expect(Object.values(stacks).some((plan) => Object.keys(plan.resource ?? {}).length > 0)).toBe(true);
  });
});

describe('the README check itself', () => {
  test('a name no snippet or prelude defines fails with the README line and what to do', () => {
    expect(diagnosticsOf(SELF_CHECKS.undefinedName)).toEqual([
      expect.stringMatching(/^README\.md:10001:11: the snippet uses `notDefinedAnywhere`, which neither it nor any PRELUDE entry in test\/readme\.test\.ts defines/),
    ]);
  });

  test('a type error names the README line of the offending prop', () => {
    // `storage` from the prelude is the EncryptedStorageClass, not a DataStorage.
    expect(SELF_CHECKS.wrongType.prelude).toEqual(expect.arrayContaining(['stack', 'storage', 'SentinelRedis']));
    expect(diagnosticsOf(SELF_CHECKS.wrongType)).toEqual([expect.stringMatching(/^README\.md:10013:3: TS2740: Type 'EncryptedStorageClass' is missing the following properties from type 'DataStorage'/)]);
  });

  test('a partial snippet runs in the prelude stack, and a validation error fails it', () => {
    expect(diagnosticsOf(SELF_CHECKS.invalidProps)).toEqual([]);
    expect(SELF_CHECKS.invalidProps.synthesizes).toBe(true);
    expect(() => runSnippet(SELF_CHECKS.invalidProps)).toThrow(/^README\.md:10021: the snippet threw: .*sentinels/s);
  });

  test('type check time', () => {
    expect(typeCheckMs).toBeLessThan(30_000);
  });
});
