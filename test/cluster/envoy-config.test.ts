import * as fs from 'fs';
import * as path from 'path';
import {
  ENVOY_IMAGE, ENVOY_NAMES, ENVOY_SPLIT_COMMANDS, EnvoyProxyModel, envoyBootstrap, renderEnvoyConfig,
} from '../../lib/cluster/envoy-config';

// ---------------------------------------------------------------------------------------------------
// A structural validator for Envoy v3 configs, driven by fixtures/envoy-v3-fields.json: the fields of
// every message the bootstrap uses, generated from Envoy's .proto files (see fixtures/README.md).
// No Envoy binary can run here; this checks what Envoy's proto JSON parser and its
// protoc-gen-validate rules would check on load, for the messages in the fixture.

interface FixtureField {
  type: string;
  kind: 'scalar' | 'message' | 'enum';
  repeated?: boolean;
  map?: { key: string };
  oneof?: string;
  deprecated?: boolean;
  required?: boolean;
  notImplemented?: boolean;
}
interface Fixture {
  source: { repository: string; commit: string; committed: string; envoyCommit: string | null };
  root: string;
  files: string[];
  messages: Record<string, { file: string; fields: Record<string, FixtureField>; requiredOneofs: string[] }>;
  enums: Record<string, { file: string; values: string[]; deprecatedValues: string[] }>;
}

const FIXTURE: Fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'envoy-v3-fields.json'), 'utf8'));
/** The Envoy release whose API the fixture was generated from (fixtures/README.md). */
const FIXTURE_RELEASE = '1.37';
const TYPE_URL = 'type.googleapis.com/';

/** google.protobuf wrappers: written as the bare scalar in JSON / YAML. */
const WRAPPERS: Record<string, string> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const describe_ = (v: unknown): string => (Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`);

/** Called on every message value met, with its full name (to look for DataSources, say). */
type Visitor = (fqn: string, value: Record<string, unknown>, at: string) => void;

class ApiValidator {
  readonly errors: string[] = [];
  constructor(private readonly fixture: Fixture, private readonly visitor?: Visitor) {}

  message(fqn: string, value: unknown, at: string): void {
    const spec = this.fixture.messages[fqn];
    if (!spec) return this.fail(at, `message ${fqn} is not in the fixture (generate it again with scripts/envoy-fields.ts)`);
    if (!isObject(value)) return this.fail(at, `${fqn} must be an object, not ${describe_(value)}`);
    this.visitor?.(fqn, value, at);
    const oneofsSet = new Map<string, string[]>();
    for (const [key, item] of Object.entries(value)) {
      const field = spec.fields[key];
      const here = `${at}.${key}`;
      if (!field) { this.fail(here, `unknown field '${key}' in ${fqn}`); continue; }
      if (field.deprecated) this.fail(here, `${fqn}.${key} is deprecated`);
      if (field.notImplemented) this.fail(here, `${fqn}.${key} is not implemented ([#not-implemented-hide:])`);
      if (field.oneof) oneofsSet.set(field.oneof, [...(oneofsSet.get(field.oneof) ?? []), key]);
      this.field(field, item, here);
    }
    for (const [oneof, keys] of oneofsSet) {
      if (keys.length > 1) this.fail(at, `${fqn}: ${keys.join(' and ')} are members of one oneof (${oneof})`);
    }
    for (const oneof of spec.requiredOneofs) {
      if (!oneofsSet.has(oneof)) this.fail(at, `${fqn}: one field of oneof ${oneof} is required`);
    }
    for (const [key, field] of Object.entries(spec.fields)) {
      if (!field.required) continue;
      const item = value[key];
      if (item === undefined || item === '' || (Array.isArray(item) && item.length === 0)) this.fail(`${at}.${key}`, `${fqn}.${key} is required`);
    }
  }

  private field(field: FixtureField, value: unknown, at: string): void {
    if (field.map) {
      if (!isObject(value)) return this.fail(at, `a map must be an object, not ${describe_(value)}`);
      for (const [key, item] of Object.entries(value)) this.single(field, item, `${at}[${JSON.stringify(key)}]`);
    } else if (field.repeated) {
      if (!Array.isArray(value)) return this.fail(at, `a repeated field must be a list, not ${describe_(value)}`);
      value.forEach((item, i) => this.single(field, item, `${at}[${i}]`));
    } else {
      this.single(field, value, at);
    }
  }

  private single(field: FixtureField, value: unknown, at: string): void {
    if (field.kind === 'scalar') return this.scalar(field.type, value, at);
    if (field.kind === 'enum') return this.enumValue(field.type, value, at);
    const type = field.type;
    if (WRAPPERS[type]) return this.scalar(WRAPPERS[type], value, at);
    switch (type) {
      case 'google.protobuf.Duration':
        if (typeof value !== 'string' || !/^-?\d+(\.\d{1,9})?s$/.test(value)) this.fail(at, `a Duration is a string like '1s' or '0.5s', not ${describe_(value)}`);
        return;
      case 'google.protobuf.Timestamp':
        if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) this.fail(at, `a Timestamp is an RFC 3339 string, not ${describe_(value)}`);
        return;
      case 'google.protobuf.Struct':
        if (!isObject(value)) this.fail(at, `a Struct is an object, not ${describe_(value)}`);
        return;
      case 'google.protobuf.ListValue':
        if (!Array.isArray(value)) this.fail(at, `a ListValue is a list, not ${describe_(value)}`);
        return;
      case 'google.protobuf.Value':
        return;
      case 'google.protobuf.Empty':
        if (!isObject(value) || Object.keys(value).length > 0) this.fail(at, `an Empty is {}, not ${describe_(value)}`);
        return;
      case 'google.protobuf.Any': {
        if (!isObject(value)) return this.fail(at, `an Any is an object with '@type', not ${describe_(value)}`);
        const { '@type': url, ...rest } = value;
        if (typeof url !== 'string' || !url.startsWith(TYPE_URL)) return this.fail(at, `an Any needs '@type: ${TYPE_URL}<message>', got ${describe_(url)}`);
        return this.message(url.slice(TYPE_URL.length), rest, `${at}<${url.slice(TYPE_URL.length)}>`);
      }
      default:
        return this.message(type, value, at);
    }
  }

  private scalar(type: string, value: unknown, at: string): void {
    const bad = (what: string): void => this.fail(at, `${type} must be ${what}, not ${describe_(value)}`);
    switch (type) {
      case 'string':
      case 'bytes':
        if (typeof value !== 'string') bad('a string');
        return;
      case 'bool':
        if (typeof value !== 'boolean') bad('true or false');
        return;
      case 'double':
      case 'float':
        if (typeof value !== 'number') bad('a number');
        return;
      case 'int64': case 'sint64': case 'sfixed64':
        if (!(Number.isInteger(value) || (typeof value === 'string' && /^-?\d+$/.test(value)))) bad('an integer');
        return;
      case 'uint64': case 'fixed64':
        if (!((Number.isInteger(value) && (value as number) >= 0) || (typeof value === 'string' && /^\d+$/.test(value)))) bad('an unsigned integer');
        return;
      case 'int32': case 'sint32': case 'sfixed32':
        if (!Number.isInteger(value) || Math.abs(value as number) > 2 ** 31) bad('a 32-bit integer');
        return;
      case 'uint32': case 'fixed32':
        if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 2 ** 32 - 1) bad('a 32-bit unsigned integer');
        return;
      default:
        this.fail(at, `unknown scalar type ${type}`);
    }
  }

  private enumValue(type: string, value: unknown, at: string): void {
    const spec = this.fixture.enums[type];
    if (!spec) return this.fail(at, `enum ${type} is not in the fixture`);
    if (typeof value !== 'string' || !spec.values.includes(value)) return this.fail(at, `${describe_(value)} is not a value of ${type} (${spec.values.join(', ')})`);
    if (spec.deprecatedValues.includes(value)) this.fail(at, `${type}.${value} is deprecated`);
  }

  private fail(at: string, message: string): void {
    this.errors.push(`${at}: ${message}`);
  }
}

/** The errors of a bootstrap, checked from envoy.config.bootstrap.v3.Bootstrap down. */
function apiErrors(bootstrap: unknown, visitor?: Visitor): string[] {
  const v = new ApiValidator(FIXTURE, visitor);
  v.message(FIXTURE.root, bootstrap, '$');
  return v.errors;
}

// ---------------------------------------------------------------------------------------------------

const MODEL: EnvoyProxyModel = {
  name: 'orders',
  namespace: 'shop',
  listenPort: 6379,
  adminPort: 9901,
  seedHosts: [0, 1, 2].flatMap((shard) => [0, 1].map((member) => `orders-shard-${shard}-${member}.orders-headless.shop.svc.cluster.local`)),
  redisPort: 6379,
  tlsCertFile: '/etc/redis-topologies/proxy-tls/tls.crt',
  tlsKeyFile: '/etc/redis-topologies/proxy-tls/tls.key',
  passwordFile: '/etc/redis-topologies/auth/password',
  opTimeoutMs: 1000,
  refreshMs: 5000,
};

/** A deep copy to break on purpose. */
const copy = (): any => JSON.parse(JSON.stringify(envoyBootstrap(MODEL)));
const at = (b: any) => ({
  listener: b.static_resources.listeners[0],
  proxy: b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config,
  tls: b.static_resources.listeners[0].filter_chains[0].transport_socket.typed_config,
  cluster: b.static_resources.clusters[0],
});

describe('the fixture', () => {
  test('was generated from the v3 protos, with the facts the bootstrap relies on', () => {
    expect(FIXTURE.source.repository).toBe('envoyproxy/data-plane-api');
    expect(FIXTURE.source.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(FIXTURE.source.envoyCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(FIXTURE.root).toBe('envoy.config.bootstrap.v3.Bootstrap');
    const proxy = FIXTURE.messages['envoy.extensions.filters.network.redis_proxy.v3.RedisProxy'].fields;
    expect(proxy.downstream_auth_password).toMatchObject({ deprecated: true });
    expect(proxy.downstream_auth_passwords).toEqual({ type: 'envoy.config.core.v3.DataSource', kind: 'message', repeated: true });
    expect(FIXTURE.messages['envoy.config.core.v3.DataSource'].requiredOneofs).toEqual(['specifier']);
    expect(FIXTURE.enums['envoy.config.cluster.v3.Cluster.LbPolicy'].values).toContain('CLUSTER_PROVIDED');
  });

  test('the pinned image is the release the fixture describes', () => {
    expect(ENVOY_IMAGE).toMatch(/^envoyproxy\/envoy:v\d+\.\d+\.\d+$/);
    expect(ENVOY_IMAGE.startsWith(`envoyproxy/envoy:v${FIXTURE_RELEASE}.`)).toBe(true);
  });
});

describe('the bootstrap against the Envoy v3 API', () => {
  test('every field, enum value, Any and shape is known and current', () => {
    expect(apiErrors(envoyBootstrap(MODEL))).toEqual([]);
    expect(apiErrors(envoyBootstrap({ ...MODEL, seedHosts: ['one.example.internal'], opTimeoutMs: 250, refreshMs: 1500 }))).toEqual([]);
  });

  test('every message met is in the fixture (the walk reaches the Any payloads)', () => {
    const met = new Set<string>();
    apiErrors(envoyBootstrap(MODEL), (fqn) => met.add(fqn));
    expect([...met].sort()).toEqual(Object.keys(FIXTURE.messages).sort());
  });

  // The validator must reject what Envoy would: otherwise the test above passes vacuously.
  test.each<[string, (b: ReturnType<typeof copy>) => void, RegExp]>([
    ['a misspelled field', (b) => { const s = at(b).proxy.settings; s.enable_redirections = s.enable_redirection; delete s.enable_redirection; }, /unknown field 'enable_redirections'/],
    ['a camelCase field', (b) => { at(b).proxy.statPrefix = 'x'; }, /unknown field 'statPrefix'/],
    ['a field of another message', (b) => { at(b).cluster.op_timeout = '1s'; }, /unknown field 'op_timeout' in envoy.config.cluster.v3.Cluster/],
    ['a misspelled field inside an Any', (b) => { at(b).cluster.cluster_type.typed_config.cluster_refresh_period = '5s'; }, /unknown field 'cluster_refresh_period' in envoy.extensions.clusters.redis.v3.RedisClusterConfig/],
    ['a deprecated field', (b) => { at(b).proxy.downstream_auth_password = { filename: '/p' }; delete at(b).proxy.downstream_auth_passwords; }, /downstream_auth_password is deprecated/],
    ['an unknown enum value', (b) => { at(b).tls.common_tls_context.tls_params.tls_minimum_protocol_version = 'TLSv1.2'; }, /"TLSv1.2" is not a value of envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol/],
    ['an object where a list is expected', (b) => { at(b).proxy.downstream_auth_passwords = { filename: '/p' }; }, /must be a list/],
    ['a list where an object is expected', (b) => { at(b).listener.address = [at(b).listener.address]; }, /envoy.config.core.v3.Address must be an object/],
    ['a scalar where an object is expected', (b) => { at(b).proxy.prefix_routes.catch_all_route = 'redis_cluster'; }, /Route must be an object/],
    ['a number as a Duration', (b) => { at(b).proxy.settings.op_timeout = 1000; }, /a Duration is a string/],
    ['a string as a port', (b) => { at(b).listener.address.socket_address.port_value = '6379'; }, /uint32 must be a 32-bit unsigned integer/],
    ['a string as a boolean', (b) => { at(b).proxy.settings.enable_hashtagging = 'true'; }, /bool must be true or false/],
    ['an unknown @type', (b) => { at(b).tls['@type'] = `${TYPE_URL}envoy.extensions.transport_sockets.tls.v3.DownstreamTLSContext`; }, /message envoy.extensions.transport_sockets.tls.v3.DownstreamTLSContext is not in the fixture/],
    ['two members of a oneof', (b) => { at(b).proxy.downstream_auth_passwords[0].inline_string = 'secret'; }, /filename and inline_string are members of one oneof/],
    ['a required field left out', (b) => { delete at(b).proxy.stat_prefix; }, /RedisProxy.stat_prefix is required/],
    ['a required oneof left out', (b) => { delete at(b).listener.address.socket_address.port_value; }, /one field of oneof port_specifier is required/],
  ])('rejects %s', (_name, breakIt, expected) => {
    const b = copy();
    breakIt(b);
    const errors = apiErrors(b);
    expect(errors.join('\n')).toMatch(expected);
  });
});

describe('renderEnvoyConfig', () => {
  const text = renderEnvoyConfig(MODEL);

  test('is YAML of envoyBootstrap under a header comment', () => {
    // js-yaml, an independent parser (jest's own dependency), reads the file as Envoy's yaml-cpp would.
    const jsYaml = require('js-yaml') as { safeLoad(source: string): unknown };
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^# .*rendered by redis-topologies$/);
    expect(lines[0]).toContain('orders');
    expect(jsYaml.safeLoad(text)).toEqual(envoyBootstrap(MODEL));
    expect(text.endsWith('\n')).toBe(true);
  });

  test('is deterministic: an equal model gives the same bytes', () => {
    const again = renderEnvoyConfig({ ...MODEL, seedHosts: [...MODEL.seedHosts] });
    expect(again).toBe(text);
    expect(renderEnvoyConfig(MODEL)).toBe(text);
  });

  test('never contains ${ or %{', () => {
    expect(text).not.toContain('${');
    expect(text).not.toContain('%{');
  });

  test('refuses inputs that could carry a template sequence or break the file', () => {
    expect(() => renderEnvoyConfig({ ...MODEL, passwordFile: '/etc/${x}/password' })).toThrow(/passwordFile/);
    expect(() => renderEnvoyConfig({ ...MODEL, tlsKeyFile: '/etc/%{x}/tls.key' })).toThrow(/tlsKeyFile/);
    expect(() => renderEnvoyConfig({ ...MODEL, seedHosts: ['a.${b}.svc'] })).toThrow(/seed host/);
    expect(() => renderEnvoyConfig({ ...MODEL, tlsCertFile: 'relative/tls.crt' })).toThrow(/tlsCertFile/);
    expect(() => renderEnvoyConfig({ ...MODEL, passwordFile: '/etc/../password' })).toThrow(/passwordFile/);
  });
});

describe('the proxy', () => {
  const b = envoyBootstrap(MODEL);
  const { listener, proxy, tls, cluster } = at(b);

  test('listens on every address at listenPort, behind TLS 1.2 or later with the mounted certificate', () => {
    expect(listener.address).toEqual({ socket_address: { address: '0.0.0.0', port_value: 6379 } });
    const chain = listener.filter_chains[0];
    expect(chain.transport_socket.name).toBe('envoy.transport_sockets.tls');
    expect(tls['@type']).toBe(`${TYPE_URL}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`);
    expect(tls.common_tls_context.tls_params.tls_minimum_protocol_version).toBe('TLSv1_2');
    expect(tls.common_tls_context.tls_params.tls_maximum_protocol_version).toBeUndefined();
    for (const suite of tls.common_tls_context.tls_params.cipher_suites) expect(suite).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    expect(tls.common_tls_context.tls_certificates).toEqual([{
      certificate_chain: { filename: MODEL.tlsCertFile },
      private_key: { filename: MODEL.tlsKeyFile },
    }]);
    expect(chain.filters.map((f: { name: string }) => f.name)).toEqual(['envoy.filters.network.redis_proxy']);
    expect(proxy['@type']).toBe(`${TYPE_URL}envoy.extensions.filters.network.redis_proxy.v3.RedisProxy`);
  });

  test('reads the password and the key from files only: no secret is in the bootstrap', () => {
    expect(proxy.downstream_auth_passwords).toEqual([{ filename: MODEL.passwordFile }]);
    expect(cluster.typed_extension_protocol_options['envoy.filters.network.redis_proxy']).toEqual({
      '@type': `${TYPE_URL}envoy.extensions.filters.network.redis_proxy.v3.RedisProtocolOptions`,
      auth_password: { filename: MODEL.passwordFile },
    });
    // Every DataSource anywhere in the bootstrap names a file, and nothing else.
    const sources: unknown[] = [];
    apiErrors(b, (fqn, value) => { if (fqn === 'envoy.config.core.v3.DataSource') sources.push(value); });
    expect(sources).toHaveLength(4);
    for (const source of sources) expect(Object.keys(source as object)).toEqual(['filename']);
    expect(renderEnvoyConfig(MODEL)).not.toMatch(/inline_string|inline_bytes|environment_variable/);
  });

  test('binds the admin interface to 127.0.0.1 only', () => {
    expect(b.admin).toEqual({ address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } });
    const listeners = (b.static_resources as { listeners: Array<{ address: { socket_address: { port_value: number } } }> }).listeners;
    expect(listeners.map((l) => l.address.socket_address.port_value)).toEqual([MODEL.listenPort]);
  });

  test('seeds the redis cluster with every member', () => {
    expect(cluster.cluster_type.name).toBe('envoy.clusters.redis');
    expect(cluster.lb_policy).toBe('CLUSTER_PROVIDED');
    expect(cluster.type).toBeUndefined();
    const seeds = cluster.load_assignment.endpoints.flatMap((e: { lb_endpoints: unknown[] }) => e.lb_endpoints);
    expect(seeds).toEqual(MODEL.seedHosts.map((host) => ({ endpoint: { address: { socket_address: { address: host, port_value: 6379 } } } })));
    expect(seeds).toHaveLength(6);
    for (const host of MODEL.seedHosts) expect(renderEnvoyConfig(MODEL)).toContain(`"${host}"`);
  });

  test('routes every key to that cluster, follows redirections and keeps the slot map fresh', () => {
    expect(proxy.prefix_routes).toEqual({ catch_all_route: { cluster: cluster.name } });
    expect(proxy.stat_prefix).toBe(ENVOY_NAMES.statPrefix);
    expect(proxy.settings).toMatchObject({ op_timeout: '1s', enable_redirection: true, enable_hashtagging: true });
    expect(proxy.settings.dns_cache_config).toEqual({ name: ENVOY_NAMES.dnsCache, dns_lookup_family: 'V4_PREFERRED' });
    expect(cluster.cluster_type.typed_config).toEqual({
      '@type': `${TYPE_URL}envoy.extensions.clusters.redis.v3.RedisClusterConfig`,
      cluster_refresh_rate: '5s',
      cluster_refresh_timeout: '3s',
      redirect_refresh_interval: '5s',
      redirect_refresh_threshold: 1,
      failure_refresh_threshold: 1,
    });
  });

  test('writes milliseconds as Duration strings', () => {
    const short = at(envoyBootstrap({ ...MODEL, opTimeoutMs: 250, refreshMs: 1500 }));
    expect(short.proxy.settings.op_timeout).toBe('0.25s');
    expect(short.cluster.connect_timeout).toBe('0.25s');
    expect(short.cluster.cluster_type.typed_config).toMatchObject({ cluster_refresh_rate: '1.5s', cluster_refresh_timeout: '1.5s' });
    expect(at(envoyBootstrap({ ...MODEL, opTimeoutMs: 1001 })).proxy.settings.op_timeout).toBe('1.001s');
  });

  test('splits the multi-key commands Envoy splits by slot', () => {
    expect([...ENVOY_SPLIT_COMMANDS]).toEqual(['DEL', 'EXISTS', 'TOUCH', 'UNLINK', 'MGET', 'MSET']);
    expect(Object.isFrozen(ENVOY_SPLIT_COMMANDS)).toBe(true);
  });

  test('refuses a model Envoy would not run', () => {
    expect(() => envoyBootstrap({ ...MODEL, seedHosts: [] })).toThrow(/seedHosts is empty/);
    expect(() => envoyBootstrap({ ...MODEL, adminPort: 6379 })).toThrow(/must differ/);
    expect(() => envoyBootstrap({ ...MODEL, redisPort: 70000 })).toThrow(/redisPort/);
    expect(() => envoyBootstrap({ ...MODEL, opTimeoutMs: 0.5 })).toThrow(/opTimeoutMs/);
    expect(() => envoyBootstrap({ ...MODEL, seedHosts: ['A.example', 'a.example'] })).toThrow(/seed host 'A.example'/);
    expect(() => envoyBootstrap({ ...MODEL, seedHosts: ['a.example', 'a.example'] })).toThrow(/duplicates/);
  });
});
