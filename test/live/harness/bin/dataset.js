#!/usr/bin/env node
/*
 * dataset.js: a deterministic mixed-type data set for backup/restore tests, run inside a client
 * pod's network namespace:
 *
 *   ip netns exec <ns> node dataset.js write   --count N [--seed S] [--prefix P] <connection>
 *   ip netns exec <ns> node dataset.js dump    --out file.json <connection>
 *   node dataset.js compare a.json b.json [--max 20] [--ignore-expiry] [--expiry-tolerance-ms N]
 *
 * <connection>: --host H --port P [--cluster] [--password-file F] [--user U]
 *               [--tls-ca F [--tls-cert F --tls-key F] [--tls-servername N]] [--max-seconds S]
 *
 * write: exactly N keys `<prefix>:<i>:<type>` (no hash tags: spread over all slots), each made
 *   from a PRNG seeded by (seed, i) alone: strings (ASCII, UTF-8, integers, binary, ~10 KB
 *   large), hashes, lists, sets (some all-integer), sorted sets (float scores, some +-inf),
 *   streams (explicit ids, some with a consumer group); ~20% get a PEXPIRE 2-6 h out. A key that
 *   exists is replaced. Prints one JSON line {written, byType, withTtl, ms}.
 * dump: every key (SCAN on every primary with --cluster) in canonical form to --out:
 *   {format, count, byType, keys: {<key>: {t, x, v}}}, keys sorted, one per line; x is the
 *   absolute expiry in ms from PEXPIRETIME (-1: none). Binary safe: a key, member or value that
 *   is not printable ASCII (or starts with "b64:") is written "b64:<base64>". v is: string: the
 *   value; hash: [[field, value]] sorted by field bytes; list: [elements] in order; set: [members]
 *   sorted by bytes; zset: [[member, score]] in ZRANGE order, scores as JS numbers' text ("inf",
 *   "-inf"); stream: {entries: [[id, [[field, value]]]], lastId, groups: [[name, lastDeliveredId,
 *   pending]]}; any other type: "dump:<base64 of DUMP>". Prints {count, byType, ms, out}.
 * compare: exit 0 when a and b hold the same keys with equal types, values and expiries, else
 *   exit 1; prints one JSON line {equal, countA, countB, missing, extra, type, value, expiry,
 *   first: [{kind, key, a?, b?, at?, field?}]} (counts by kind; missing: in a, not in b; extra: in
 *   b, not in a); `first` lists up to --max differences, missing/extra/type/value before expiry.
 *
 * Exit codes: 0 ok (compare: equal), 1 differences / a Redis error, 2 bad usage, 3 out of time.
 */
'use strict';

const fs = require('fs');
const Redis = require('ioredis');

const FORMAT = 'rt-dataset-dump/1';
const BATCH = 250;
const TYPES = ['string', 'hash', 'list', 'set', 'zset', 'stream'];

function usage(msg) {
  process.stderr.write(`dataset: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const flags = new Set(['cluster', 'ignore-expiry']);
  const opts = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { opts._.push(a); continue; }
    const name = a.slice(2);
    if (flags.has(name)) { opts[name] = true; continue; }
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    opts[name] = argv[++i];
  }
  return opts;
}

function intOpt(opts, name, def, min, max) {
  if (opts[name] === undefined) {
    if (def === undefined) usage(`--${name} is required`);
    return def;
  }
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < min || n > max) usage(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

// ---- deterministic randomness: every key from (seed, index) alone --------------------------------

function mix32(a) {
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  return (a ^ (a >>> 16)) >>> 0;
}

/** mulberry32 seeded from (seed, i): a function returning floats in [0, 1). */
function rngFor(seed, i) {
  let s = mix32(mix32(seed >>> 0) ^ Math.imul(i + 1, 0x9e3779b1));
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  next.bytes = (n) => {
    const b = Buffer.alloc(n);
    for (let k = 0; k < n; k++) b[k] = Math.floor(next() * 256);
    return b;
  };
  next.word = () => {
    const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let w = '';
    for (let k = next.int(3, 12); k > 0; k--) w += abc[Math.floor(next() * abc.length)];
    return w;
  };
  return next;
}

function smallValue(r) {
  const p = r();
  if (p < 0.15) return r.bytes(r.int(1, 64)); // binary, may hold \0 \r \n
  if (p < 0.3) return String(r.int(-1000000, 1000000));
  if (p < 0.4) return `ünïcødé ${r.word()} ✓ 日本`;
  return `${r.word()} ${r.word()}`;
}

/** The commands making key i (after DEL), its key name and type. */
function makeKey(seed, prefix, i) {
  const r = rngFor(seed, i);
  const p = r();
  const type = p < 0.4 ? 'string' : p < 0.55 ? 'hash' : p < 0.67 ? 'list' : p < 0.79 ? 'set' : p < 0.9 ? 'zset' : 'stream';
  const key = `${prefix}:${i}:${type}`;
  const big = r() < 0.04; // past the listpack/intset limits: other RDB encodings
  const cmds = [];
  /** Commands without the key first (ioredis cannot route them by key): sent once cmds are applied. */
  const after = [];
  switch (type) {
    case 'string': {
      const q = r();
      let v;
      if (q < 0.05) v = r.bytes(r.int(9000, 11000)); // large, binary
      else if (q < 0.1) v = Buffer.from(`${r.word()} `.repeat(1500).slice(0, r.int(9000, 11000))); // large, compressible
      else if (q < 0.3) v = r.bytes(r.int(1, 256));
      else if (q < 0.4) v = String(r.int(-2147483648, 2147483647));
      else if (q < 0.45) v = '';
      else v = smallValue(r);
      cmds.push(['set', key, v]);
      break;
    }
    case 'hash': {
      const n = big ? r.int(200, 400) : r.int(1, 20);
      const args = [];
      for (let k = 0; k < n; k++) args.push(r() < 0.1 ? r.bytes(r.int(1, 16)) : `f${k}:${r.word()}`, smallValue(r));
      cmds.push(['hset', key, ...args]);
      break;
    }
    case 'list': {
      const n = big ? r.int(300, 600) : r.int(1, 30);
      const args = [];
      for (let k = 0; k < n; k++) args.push(smallValue(r));
      cmds.push(['rpush', key, ...args]);
      break;
    }
    case 'set': {
      const n = big ? r.int(600, 900) : r.int(1, 30);
      const ints = r() < 0.3;
      const args = [];
      for (let k = 0; k < n; k++) args.push(ints ? String(r.int(-100000, 100000)) : smallValue(r));
      cmds.push(['sadd', key, ...args]);
      break;
    }
    case 'zset': {
      const n = big ? r.int(200, 400) : r.int(1, 30);
      const args = [];
      for (let k = 0; k < n; k++) {
        const q = r();
        const score = q < 0.02 ? '+inf' : q < 0.04 ? '-inf' : q < 0.3 ? String(r.int(-1000, 1000)) : String((r() - 0.5) * 2e6 / 3);
        args.push(score, r() < 0.1 ? r.bytes(r.int(1, 16)) : `m${k}:${r.word()}`);
      }
      cmds.push(['zadd', key, ...args]);
      break;
    }
    case 'stream': {
      const n = r.int(2, 10);
      const base = 1700000000000 + i * 1000;
      const ids = [];
      for (let k = 0; k < n; k++) {
        const id = `${base + k * 7}-${r.int(0, 3)}`;
        ids.push(id);
        const fields = [];
        for (let f = r.int(1, 3); f > 0; f--) fields.push(`field${f}`, smallValue(r));
        cmds.push(['xadd', key, id, ...fields]);
      }
      if (r() < 0.35) after.push(['xgroup', 'CREATE', key, `g${r.int(1, 3)}`, ids[r.int(0, n - 1)]]);
      break;
    }
  }
  let ttl = false;
  if (r() < 0.2) {
    ttl = true;
    cmds.push(['pexpire', key, String(r.int(2 * 3600_000, 6 * 3600_000))]);
  }
  return { key, type, cmds, after, ttl };
}

// ---- connection ------------------------------------------------------------------------------------

function connect(opts) {
  if (opts.host === undefined) usage('--host is required');
  const port = intOpt(opts, 'port', 6379, 1, 65535);
  let password;
  if (opts['password-file'] !== undefined) password = fs.readFileSync(opts['password-file'], 'utf8').replace(/\r?\n$/, '');
  let tls;
  if (opts['tls-ca'] !== undefined) {
    tls = { ca: fs.readFileSync(opts['tls-ca']) };
    if (opts['tls-cert'] !== undefined) tls.cert = fs.readFileSync(opts['tls-cert']);
    if (opts['tls-key'] !== undefined) tls.key = fs.readFileSync(opts['tls-key']);
    if (opts['tls-servername'] !== undefined) tls.servername = opts['tls-servername'];
  }
  const redisOptions = {
    username: opts.user, password, tls, connectTimeout: 5000, commandTimeout: 30000, maxRetriesPerRequest: 2,
    // Auto-pipelining sends a key's commands in order on one connection. XGROUP has no key ioredis
    // knows of (it would route it by "CREATE"): sent by itself, a cluster client follows the MOVED.
    enableAutoPipelining: true, autoPipeliningIgnoredCommands: ['xgroup'],
  };
  if (opts.cluster) {
    const cluster = new Redis.Cluster([{ host: opts.host, port }], {
      redisOptions, enableAutoPipelining: true, autoPipeliningIgnoredCommands: ['xgroup'], slotsRefreshTimeout: 5000, clusterRetryStrategy: (n) => (n > 20 ? null : 250),
    });
    cluster.on('error', () => undefined);
    return cluster;
  }
  const client = new Redis({ host: opts.host, port, ...redisOptions, retryStrategy: (n) => (n > 20 ? null : 250) });
  client.on('error', () => undefined);
  return client;
}

async function ready(client) {
  if (client.status === 'ready') return;
  await new Promise((resolve, reject) => {
    client.once('ready', resolve);
    client.once('end', () => reject(new Error('connection ended before ready')));
  });
}

/** Redis nodes that hold the keys: every slot-owning primary of a cluster, or the one server. */
async function keyNodes(client, cluster) {
  if (!cluster) return [client];
  const masters = client.nodes('master');
  if (masters.length === 0) throw new Error('the cluster client knows no primaries');
  await Promise.all(masters.map((m) => (m.status === 'ready' ? undefined : m.connect().catch(() => ready(m)))));
  return masters;
}

// ---- write -------------------------------------------------------------------------------------------

async function write(opts) {
  const count = intOpt(opts, 'count', undefined, 1, 10_000_000);
  const seed = intOpt(opts, 'seed', 1, 0, 0xffffffff);
  const prefix = opts.prefix ?? 'ds';
  if (!/^[A-Za-z0-9_.:-]+$/.test(prefix)) usage('--prefix: letters, digits, _ . : - only (no hash tags)');
  const client = connect(opts);
  const t0 = Date.now();
  await ready(client);
  const byType = Object.fromEntries(TYPES.map((t) => [t, 0]));
  let withTtl = 0;
  for (let at = 0; at < count; at += BATCH) {
    const pending = [];
    const after = [];
    for (let i = at; i < Math.min(count, at + BATCH); i++) {
      const k = makeKey(seed, prefix, i);
      after.push(...k.after);
      byType[k.type]++;
      if (k.ttl) withTtl++;
      // Auto-pipelining sends these in order, per node.
      pending.push(client.del(k.key));
      for (const [cmd, ...args] of k.cmds) pending.push(client.call(cmd, ...args).then((reply) => {
        if (cmd === 'pexpire' && reply !== 1) throw new Error(`PEXPIRE ${k.key} replied ${reply}`);
      }));
    }
    await Promise.all(pending);
    await Promise.all(after.map(([cmd, ...args]) => client.call(cmd, ...args)));
  }
  const ms = Date.now() - t0;
  client.disconnect();
  return { written: count, seed, prefix, byType, withTtl, ms };
}

// ---- dump --------------------------------------------------------------------------------------------

function enc(buf) {
  if (!Buffer.isBuffer(buf)) buf = Buffer.from(String(buf));
  for (const b of buf) if (b < 0x20 || b > 0x7e) return `b64:${buf.toString('base64')}`;
  const s = buf.toString('latin1');
  return s.startsWith('b64:') ? `b64:${buf.toString('base64')}` : s;
}

function canonicalScore(s) {
  const t = String(s).toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity') return 'inf';
  if (t === '-inf' || t === '-infinity') return '-inf';
  const n = Number(t);
  if (Number.isNaN(n)) throw new Error(`unparsable score ${s}`);
  return String(n);
}

const byBytes = (a, b) => Buffer.compare(a, b);

function pairs(flat) {
  const out = [];
  for (let k = 0; k + 1 < flat.length; k += 2) out.push([flat[k], flat[k + 1]]);
  return out;
}

/** XINFO replies (flat field/value arrays) as an object with string keys. */
function infoObject(flat) {
  const o = {};
  for (const [k, v] of pairs(flat)) o[String(k)] = Buffer.isBuffer(v) ? v.toString() : v;
  return o;
}

function canonicalValue(type, reply, extra) {
  switch (type) {
    case 'string':
      return enc(reply);
    case 'hash':
      return pairs(reply).sort((a, b) => byBytes(a[0], b[0])).map(([f, v]) => [enc(f), enc(v)]);
    case 'list':
      return reply.map(enc);
    case 'set':
      return [...reply].sort(byBytes).map(enc);
    case 'zset':
      return pairs(reply).map(([m, s]) => [enc(m), canonicalScore(s)]);
    case 'stream': {
      const entries = reply.map(([id, fields]) => [String(id), pairs(fields).map(([f, v]) => [enc(f), enc(v)])]);
      const info = infoObject(extra.info);
      const groups = extra.groups.map(infoObject).map((g) => [g.name, g['last-delivered-id'], Number(g.pending)])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return { entries, lastId: info['last-generated-id'], groups };
    }
    default:
      return `dump:${reply.toString('base64')}`;
  }
}

async function scanAll(node, deadline) {
  const keys = [];
  let cursor = '0';
  for (let rounds = 0; rounds < 10_000_000; rounds++) {
    if (Date.now() > deadline) throw new Error('SCAN did not finish in time');
    const [next, batch] = await node.scanBuffer(cursor, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next.toString();
    if (cursor === '0') return keys;
  }
  throw new Error('SCAN did not finish');
}

function execReplies(results, what) {
  return results.map(([err, reply], k) => {
    if (err) throw new Error(`${what} #${k}: ${err.message}`);
    return reply;
  });
}

async function dumpNode(node, deadline, out) {
  const keys = await scanAll(node, deadline);
  // SCAN may return a key twice (rehashing): deduplicate.
  const seen = new Set();
  const unique = keys.filter((k) => {
    const s = k.toString('base64');
    if (seen.has(s)) return false;
    seen.add(s);
    return true;
  });
  for (let at = 0; at < unique.length; at += BATCH) {
    const batch = unique.slice(at, at + BATCH);
    const meta = node.pipeline();
    for (const k of batch) meta.type(k).call('pexpiretime', k);
    const m = execReplies(await meta.exec(), 'TYPE/PEXPIRETIME');
    const reads = node.pipeline();
    const plan = [];
    batch.forEach((k, j) => {
      const type = m[2 * j];
      const x = Number(m[2 * j + 1]);
      if (type === 'none') return; // gone since SCAN
      plan.push({ k, type, x });
      switch (type) {
        case 'string': reads.getBuffer(k); break;
        // Upper case: ioredis's reply transformer for 'hgetall' makes an object (fields as UTF-8 text).
        case 'hash': reads.callBuffer('HGETALL', k); break;
        case 'list': reads.lrangeBuffer(k, 0, -1); break;
        case 'set': reads.smembersBuffer(k); break;
        case 'zset': reads.zrangeBuffer(k, 0, -1, 'WITHSCORES'); break;
        case 'stream': reads.xrangeBuffer(k, '-', '+').xinfo('STREAM', k).xinfo('GROUPS', k); break;
        default: reads.dumpBuffer(k);
      }
    });
    const replies = execReplies(await reads.exec(), 'read');
    let r = 0;
    for (const { k, type, x } of plan) {
      const reply = replies[r++];
      let extra;
      if (type === 'stream') extra = { info: replies[r++], groups: replies[r++] };
      if (type === 'hash' && !Array.isArray(reply)) throw new Error(`HGETALL ${enc(k)} did not reply with an array`);
      out.set(enc(k), { t: type, x: x === -2 ? -1 : x, v: canonicalValue(type, reply, extra) });
    }
  }
}

async function dump(opts) {
  if (opts.out === undefined) usage('--out is required');
  const maxSeconds = intOpt(opts, 'max-seconds', 300, 1, 3600);
  const client = connect(opts);
  const t0 = Date.now();
  await ready(client);
  const out = new Map();
  for (const node of await keyNodes(client, Boolean(opts.cluster))) await dumpNode(node, t0 + maxSeconds * 1000, out);
  const names = [...out.keys()].sort();
  const byType = {};
  for (const v of out.values()) byType[v.t] = (byType[v.t] ?? 0) + 1;
  const lines = names.map((n) => `${JSON.stringify(n)}:${JSON.stringify(out.get(n))}`);
  const text = `{"format":${JSON.stringify(FORMAT)},"count":${names.length},"byType":${JSON.stringify(byType)},"keys":{\n${lines.join(',\n')}\n}}\n`;
  fs.writeFileSync(opts.out, text);
  client.disconnect();
  return { count: names.length, byType, ms: Date.now() - t0, out: opts.out };
}

// ---- compare -----------------------------------------------------------------------------------------

function load(file) {
  const d = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (d.format !== FORMAT) throw new Error(`${file}: not a ${FORMAT} dump`);
  return d;
}

function brief(v) {
  if (v === undefined) return '(none)';
  const s = JSON.stringify(v);
  return s.length > 200 ? `${s.slice(0, 200)}... (${s.length} chars)` : s;
}

/** Where two canonical values first differ, for the report. */
function firstDifference(a, b) {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let k = 0; k < Math.max(a.length, b.length); k++) {
      if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return { at: k, lengthA: a.length, lengthB: b.length, a: brief(a[k]), b: brief(b[k]) };
    }
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
    for (const f of Object.keys({ ...a, ...b })) if (JSON.stringify(a[f]) !== JSON.stringify(b[f])) return { field: f, ...firstDifference(a[f], b[f]) };
  }
  return { a: brief(a), b: brief(b) };
}

function compare(opts) {
  const [fa, fb] = opts._;
  if (fa === undefined || fb === undefined) usage('compare needs two dump files');
  const max = intOpt(opts, 'max', 20, 0, 100000);
  const tolerance = intOpt(opts, 'expiry-tolerance-ms', 0, 0, 1e12);
  const a = load(fa).keys;
  const b = load(fb).keys;
  const res = { equal: true, countA: Object.keys(a).length, countB: Object.keys(b).length, missing: 0, extra: 0, type: 0, value: 0, expiry: 0, first: [] };
  const examples = { missing: [], extra: [], type: [], value: [], expiry: [] };
  const note = (kind, key, detail) => {
    res.equal = false;
    res[kind]++;
    if (examples[kind].length < max) examples[kind].push({ kind, key, ...detail });
  };
  for (const key of Object.keys(a)) {
    const x = a[key];
    const y = b[key];
    if (y === undefined) { note('missing', key, { a: { t: x.t, x: x.x } }); continue; }
    if (x.t !== y.t) { note('type', key, { a: x.t, b: y.t }); continue; }
    if (JSON.stringify(x.v) !== JSON.stringify(y.v)) note('value', key, firstDifference(x.v, y.v));
    if (!opts['ignore-expiry']) {
      const differ = (x.x === -1) !== (y.x === -1) || Math.abs(x.x - y.x) > tolerance;
      if (differ) note('expiry', key, { a: x.x, b: y.x });
    }
  }
  for (const key of Object.keys(b)) if (a[key] === undefined) note('extra', key, { b: { t: b[key].t, x: b[key].x } });
  // The first `max` differences, the worse kinds first.
  res.first = Object.values(examples).flat().slice(0, max);
  return res;
}

// ---- main --------------------------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));
const command = opts._.shift();
const maxSeconds = intOpt(opts, 'max-seconds', 300, 1, 3600);
setTimeout(() => {
  process.stderr.write(`dataset: ${command} did not finish within ${maxSeconds} s\n`);
  process.exit(3);
}, maxSeconds * 1000).unref();

(async () => {
  switch (command) {
    case 'write':
      process.stdout.write(`${JSON.stringify(await write(opts))}\n`);
      process.exit(0);
      break;
    case 'dump':
      process.stdout.write(`${JSON.stringify(await dump(opts))}\n`);
      process.exit(0);
      break;
    case 'compare': {
      const res = compare(opts);
      process.stdout.write(`${JSON.stringify(res)}\n`);
      process.exit(res.equal ? 0 : 1);
      break;
    }
    default:
      usage(`unknown command ${JSON.stringify(command)} (write, dump, compare)`);
  }
})().catch((e) => {
  process.stderr.write(`dataset: ${command}: ${e && e.stack || e}\n`);
  process.exit(1);
});
