/**
 * Generates test/cluster/fixtures/envoy-v3-fields.json: the v3 API messages and enums the Envoy
 * bootstrap of lib/cluster/envoy-config.ts uses, read from Envoy's own .proto files, so the unit
 * test can check the rendered bootstrap field by field without an Envoy binary.
 *
 *   node -r ./scripts/swc-register.js scripts/envoy-fields.ts <git dir of envoyproxy/data-plane-api> <commit> \
 *     > test/cluster/fixtures/envoy-v3-fields.json
 *
 * (data-plane-api is the mirror of the envoy repository's api/ directory; every commit names the
 * envoy commit it mirrors.) Not run by the tests. The messages included are those the bootstrap
 * reaches from envoy.config.bootstrap.v3.Bootstrap (google.protobuf.Any resolved by its @type), with
 * all their fields, and every enum those fields use. A field whose type the fixture lacks makes the
 * test fail: using a new message means generating the fixture again, never editing it by hand.
 */
import { execFileSync } from 'child_process';
import { envoyBootstrap, EnvoyProxyModel } from '../lib/cluster/envoy-config';

const ROOT = 'envoy.config.bootstrap.v3.Bootstrap';
const TYPE_URL = 'type.googleapis.com/';
const SCALARS = new Set([
  'double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64',
  'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'bool', 'string', 'bytes',
]);

/** A model exercising every branch of the renderer (the bootstrap has no optional parts today). */
const SAMPLE: EnvoyProxyModel = {
  name: 'orders',
  namespace: 'shop',
  listenPort: 6379,
  adminPort: 9901,
  seedHosts: ['orders-0.orders-headless.shop.svc.cluster.local', 'orders-1.orders-headless.shop.svc.cluster.local'],
  redisPort: 6379,
  tlsCertFile: '/etc/redis-topologies/proxy-tls/tls.crt',
  tlsKeyFile: '/etc/redis-topologies/proxy-tls/tls.key',
  passwordFile: '/etc/redis-topologies/auth/password',
  opTimeoutMs: 1000,
  refreshMs: 5000,
};

interface Field {
  type: string;
  kind: 'scalar' | 'message' | 'enum';
  repeated?: true;
  map?: { key: string };
  oneof?: string;
  deprecated?: true;
  required?: true;
  notImplemented?: true;
}
interface Message { file: string; fields: Record<string, Field>; requiredOneofs: string[] }
interface Enum { file: string; values: string[]; deprecatedValues: string[] }

// ------------------------------------------------------------------ tokenizer
interface Token { kind: 'ident' | 'number' | 'string' | 'punct' | 'comment'; text: string }

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (src.startsWith('//', i)) {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? src.length : end;
      out.push({ kind: 'comment', text: src.slice(i + 2, stop) });
      i = stop;
      continue;
    }
    if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new Error('unterminated comment');
      out.push({ kind: 'comment', text: src.slice(i + 2, end) });
      i = end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out.push({ kind: 'string', text: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    const ident = /^\.?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(src.slice(i, i + 300));
    if (ident) { out.push({ kind: 'ident', text: ident[0] }); i += ident[0].length; continue; }
    const num = /^[0-9][0-9A-Za-z_.]*/.exec(src.slice(i, i + 100));
    if (num) { out.push({ kind: 'number', text: num[0] }); i += num[0].length; continue; }
    out.push({ kind: 'punct', text: c });
    i++;
  }
  return out;
}

// ------------------------------------------------------------------ parser
interface RawField { scope: string; name: string; typeRef: string; repeated: boolean; mapKey?: string; oneof?: string; options: Token[]; comments: string }
interface RawMessage { file: string; fields: RawField[]; requiredOneofs: string[] }

class ProtoParser {
  private pos = 0;
  private comments: string[] = [];
  private pkg = '';
  constructor(private readonly tokens: Token[], private readonly file: string,
    private readonly messages: Map<string, RawMessage>, private readonly enums: Map<string, Enum>) {}

  parse(): void {
    while (this.peek()) {
      const t = this.next();
      if (t.text === 'syntax' || t.text === 'import' || t.text === 'option' || t.text === 'edition') this.skipStatement();
      else if (t.text === 'package') { this.pkg = this.next().text; this.expect(';'); }
      else if (t.text === 'message') this.message(this.pkg);
      else if (t.text === 'enum') this.enumBody(this.pkg);
      else if (t.text === 'service' || t.text === 'extend') { this.next(); this.skipBlock(); }
      else if (t.text !== ';') throw new Error(`${this.file}: unexpected '${t.text}'`);
    }
  }

  /** The next token that is not a comment; comments are kept for the statement that follows them. */
  private peek(): Token | undefined {
    while (this.pos < this.tokens.length && this.tokens[this.pos].kind === 'comment') {
      this.comments.push(this.tokens[this.pos].text);
      this.pos++;
    }
    return this.tokens[this.pos];
  }
  private next(): Token {
    const t = this.peek();
    if (!t) throw new Error(`${this.file}: unexpected end`);
    this.pos++;
    return t;
  }
  private expect(text: string): void {
    const t = this.next();
    if (t.text !== text) throw new Error(`${this.file}: expected '${text}', got '${t.text}'`);
  }
  private takeComments(): string {
    const text = this.comments.join('\n');
    this.comments = [];
    return text;
  }
  /** Up to and including the ';' that ends this statement, over nested brackets. */
  private skipStatement(): void {
    let depth = 0;
    for (;;) {
      const t = this.next();
      if (t.kind === 'punct' && '{[('.includes(t.text)) depth++;
      else if (t.kind === 'punct' && '}])'.includes(t.text)) depth--;
      else if (t.text === ';' && depth === 0) break;
    }
    this.takeComments();
  }
  /** A '{ ... }' block (the name before it already read). */
  private skipBlock(): void {
    while (this.peek()?.text !== '{') this.next();
    let depth = 0;
    do {
      const t = this.next();
      if (t.text === '{') depth++;
      else if (t.text === '}') depth--;
    } while (depth > 0);
    this.takeComments();
  }
  /** Field options '[ ... ]', if any, then the ';'. */
  private fieldOptions(): Token[] {
    const options: Token[] = [];
    if (this.peek()?.text === '[') {
      let depth = 0;
      do {
        const t = this.next();
        if (t.text === '[') depth++;
        else if (t.text === ']') depth--;
        options.push(t);
      } while (depth > 0);
    }
    this.expect(';');
    return options;
  }

  private message(scope: string): void {
    const name = `${scope}.${this.next().text}`;
    this.takeComments();
    const raw: RawMessage = { file: this.file, fields: [], requiredOneofs: [] };
    this.messages.set(name, raw);
    this.expect('{');
    this.messageBody(name, raw, undefined);
  }

  private messageBody(name: string, raw: RawMessage, oneof: string | undefined): void {
    for (;;) {
      const t = this.next();
      if (t.text === '}') { this.takeComments(); return; }
      if (t.text === ';') continue;
      if (t.text === 'message' && !oneof) { this.message(name); continue; }
      if (t.text === 'enum' && !oneof) { this.enumBody(name); continue; }
      if (t.text === 'extend') { this.next(); this.skipBlock(); continue; }
      if (t.text === 'reserved' || t.text === 'extensions') { this.skipStatement(); continue; }
      if (t.text === 'option') {
        const start = this.pos;
        this.skipStatement();
        const text = this.tokens.slice(start, this.pos).map((x) => x.text).join(' ');
        if (oneof && /\(\s*validate\.required\s*\)\s*=\s*true/.test(text)) raw.requiredOneofs.push(oneof);
        continue;
      }
      if (t.text === 'oneof') {
        const oneofName = this.next().text;
        this.takeComments();
        this.expect('{');
        this.messageBody(name, raw, oneofName);
        continue;
      }
      let repeated = false;
      let typeRef = t.text;
      let mapKey: string | undefined;
      if (t.text === 'repeated' || t.text === 'optional' || t.text === 'required') {
        repeated = t.text === 'repeated';
        typeRef = this.next().text;
      }
      if (typeRef === 'map' && this.peek()?.text === '<') {
        this.expect('<');
        mapKey = this.next().text;
        this.expect(',');
        typeRef = this.next().text;
        this.expect('>');
      }
      const fieldName = this.next().text;
      this.expect('=');
      this.next();
      const options = this.fieldOptions();
      raw.fields.push({ scope: name, name: fieldName, typeRef, repeated, mapKey, oneof, options, comments: this.takeComments() });
    }
  }

  private enumBody(scope: string): void {
    const name = `${scope}.${this.next().text}`;
    this.takeComments();
    const e: Enum = { file: this.file, values: [], deprecatedValues: [] };
    this.enums.set(name, e);
    this.expect('{');
    for (;;) {
      const t = this.next();
      if (t.text === '}') { this.takeComments(); return; }
      if (t.text === ';') continue;
      if (t.text === 'option' || t.text === 'reserved') { this.skipStatement(); continue; }
      this.expect('=');
      if (this.peek()?.text === '-') this.next();
      this.next();
      const options = this.fieldOptions();
      e.values.push(t.text);
      if (isDeprecated(options)) e.deprecatedValues.push(t.text);
      this.takeComments();
    }
  }
}

/** `deprecated = true` among the field's own options (not inside a nested option value). */
function isDeprecated(options: Token[]): boolean {
  let depth = 0;
  for (let i = 0; i < options.length; i++) {
    const t = options[i];
    if ('[{('.includes(t.text) && t.kind === 'punct') depth++;
    else if (']})'.includes(t.text) && t.kind === 'punct') depth--;
    else if (depth === 1 && t.text === 'deprecated' && options[i + 1]?.text === '=' && options[i + 2]?.text === 'true') return true;
  }
  return false;
}

/**
 * protoc-gen-validate rules Envoy enforces when it loads a config: a message or duration
 * `required: true`, or a string, bytes or list that must not be empty (unless `ignore_empty`).
 */
function isRequired(options: Token[]): boolean {
  const texts = options.map((t) => t.text);
  if (!texts.includes('validate.rules')) return false;
  if (texts.some((t, i) => t === 'ignore_empty' && texts[i + 1] === ':' && texts[i + 2] === 'true')) return false;
  return texts.some((t, i) => (t === 'required' && texts[i + 1] === ':' && texts[i + 2] === 'true')
    || (['min_len', 'min_bytes', 'min_items'].includes(t) && texts[i + 1] === ':' && Number(texts[i + 2]) > 0));
}

// ------------------------------------------------------------------ generation
function git(gitDir: string, ...args: string[]): string {
  return execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
}

function main(): void {
  const [gitDir, commit] = process.argv.slice(2);
  if (!gitDir || !/^[0-9a-f]{40}$/.test(commit ?? '')) {
    throw new Error('usage: envoy-fields.ts <data-plane-api git dir> <40-hex commit>');
  }
  const paths = git(gitDir, 'ls-tree', '-r', '--name-only', commit, 'envoy/').split('\n').filter((p) => p.endsWith('.proto'));
  const messages = new Map<string, RawMessage>();
  const enums = new Map<string, Enum>();
  for (const path of paths) {
    new ProtoParser(tokenize(git(gitDir, 'show', `${commit}:${path}`)), path, messages, enums).parse();
  }

  /** protobuf's scoping: the innermost enclosing scope in which the name exists. */
  const resolve = (scope: string, ref: string): string => {
    if (ref.startsWith('.')) return ref.slice(1);
    const parts = scope.split('.');
    for (let n = parts.length; n > 0; n--) {
      const candidate = `${parts.slice(0, n).join('.')}.${ref}`;
      if (messages.has(candidate) || enums.has(candidate)) return candidate;
    }
    return ref; // google.protobuf.*, xds.*, udpa.*: defined outside this repository
  };
  const fieldOf = (f: RawField): Field => {
    const scalar = SCALARS.has(f.typeRef);
    const type = scalar ? f.typeRef : resolve(f.scope, f.typeRef);
    const field: Field = { type, kind: scalar ? 'scalar' : enums.has(type) ? 'enum' : 'message' };
    if (f.repeated) field.repeated = true;
    if (f.mapKey) field.map = { key: f.mapKey };
    if (f.oneof) field.oneof = f.oneof;
    if (isDeprecated(f.options)) field.deprecated = true;
    if (isRequired(f.options) && !f.oneof) field.required = true;
    if (f.comments.includes('[#not-implemented-hide:]')) field.notImplemented = true;
    return field;
  };

  // The messages the bootstrap reaches.
  const used = new Set<string>();
  const visit = (fqn: string, value: unknown): void => {
    used.add(fqn);
    const raw = messages.get(fqn);
    if (!raw || value === null || typeof value !== 'object') return;
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const rf = raw.fields.find((x) => x.name === key);
      if (!rf) continue;
      const f = fieldOf(rf);
      if (f.kind !== 'message') continue;
      const items = f.map ? Object.values(v as object) : f.repeated ? (v as unknown[]) : [v];
      for (const item of items) {
        if (f.type === 'google.protobuf.Any') {
          const { '@type': url, ...rest } = item as Record<string, unknown>;
          if (typeof url === 'string' && url.startsWith(TYPE_URL)) visit(url.slice(TYPE_URL.length), rest);
        } else if (messages.has(f.type)) {
          visit(f.type, item);
        }
      }
    }
  };
  visit(ROOT, envoyBootstrap(SAMPLE));

  const outMessages: Record<string, Message> = {};
  const usedEnums = new Set<string>();
  for (const fqn of [...used].sort()) {
    const raw = messages.get(fqn);
    if (!raw) throw new Error(`${fqn} is used but not defined in ${commit}`);
    const fields: Record<string, Field> = {};
    for (const rf of [...raw.fields].sort((a, b) => a.name.localeCompare(b.name))) {
      fields[rf.name] = fieldOf(rf);
      if (fields[rf.name].kind === 'enum') usedEnums.add(fields[rf.name].type);
    }
    outMessages[fqn] = { file: raw.file, fields, requiredOneofs: [...new Set(raw.requiredOneofs)].sort() };
  }
  const outEnums: Record<string, Enum> = {};
  for (const fqn of [...usedEnums].sort()) outEnums[fqn] = enums.get(fqn)!;

  const subject = git(gitDir, 'log', '-1', '--format=%cI%n%B', commit);
  const mirrored = /Mirrored from https:\/\/github\.com\/envoyproxy\/envoy @ ([0-9a-f]{40})/.exec(subject)?.[1] ?? null;
  const files = [...new Set([...Object.values(outMessages), ...Object.values(outEnums)].map((x) => x.file))].sort();
  const fixture = {
    generatedBy: 'scripts/envoy-fields.ts',
    source: {
      repository: 'envoyproxy/data-plane-api',
      commit,
      committed: subject.split('\n')[0],
      envoyCommit: mirrored,
    },
    root: ROOT,
    files,
    messages: outMessages,
    enums: outEnums,
  };
  process.stdout.write(`${JSON.stringify(fixture, null, 2)}\n`);
}

main();
