#!/usr/bin/env node
/*
 * writer.js: a bounded write-load client for live tests. Standalone CommonJS, Node built-ins only,
 * run inside a client pod's network namespace:
 *
 *   ip netns exec <ns> node test/live/harness/bin/writer.js '<json config>'
 *
 * Config: {
 *   mode: 'sentinel' | 'direct',
 *   sentinels?: [{host, port}], masterName?,      // sentinel mode
 *   host?, port?,                                 // direct mode
 *   username?, password?, sentinelUsername?, sentinelPassword?,
 *   keyPrefix, maxWrites, maxSeconds,             // both bounds are required
 *   intervalMs? (pause after each write, default 10), retryMs? (pause before rediscovery,
 *   default max(intervalMs, 100)),
 *   tls?: {caFile, certFile?, keyFile?, servername?}  // servername defaults to the host name
 * }
 *
 * It keeps a connection to the current primary (sentinel mode: asks each sentinel in turn for
 * get-master-addr-by-name, then checks ROLE on the answer) and writes SET <prefix>:<seq> <seq>,
 * seq counting attempts from 1. One JSON line per event on stdout:
 *   {"ev":"ack","seq":n,"t":ms,"addr":"host:port"}                 +OK seen: the write is acknowledged
 *   {"ev":"err","seq":n|null,"t":ms,"stage":"connect"|"write","msg":...}  seq null: no write attempted
 *   {"ev":"done","acked":[...],"attempts":n,"reason":...}           last line, then exit 0
 * t is epoch milliseconds. A write that errored or timed out may or may not have been applied.
 */
'use strict';

const fs = require('fs');
const net = require('net');
const tls = require('tls');

const COMMAND_TIMEOUT_MS = 1000;

class RespError extends Error {}

function fail(msg) {
  process.stderr.write(`writer: ${msg}\n`);
  process.exit(2);
}

function loadConfig(arg) {
  let c;
  try {
    c = JSON.parse(arg);
  } catch (e) {
    fail(`config must be JSON as the first argument: ${e.message}`);
  }
  const posInt = (v, max) => Number.isInteger(v) && v > 0 && v <= max;
  if (!posInt(c.maxWrites, 10000000)) fail('maxWrites (1..10000000) is required');
  if (!(typeof c.maxSeconds === 'number' && c.maxSeconds > 0 && c.maxSeconds <= 3600)) fail('maxSeconds (0..3600] is required');
  if (typeof c.keyPrefix !== 'string' || c.keyPrefix === '') fail('keyPrefix is required');
  if (c.mode === 'sentinel') {
    if (!Array.isArray(c.sentinels) || c.sentinels.length === 0 || typeof c.masterName !== 'string') fail('sentinel mode needs sentinels and masterName');
  } else if (c.mode === 'direct') {
    if (typeof c.host !== 'string' || !posInt(c.port, 65535)) fail('direct mode needs host and port');
  } else {
    fail(`mode must be 'sentinel' or 'direct', got ${JSON.stringify(c.mode)}`);
  }
  c.intervalMs = c.intervalMs === undefined ? 10 : c.intervalMs;
  c.retryMs = c.retryMs === undefined ? Math.max(c.intervalMs, 100) : c.retryMs;
  return c;
}

const cfg = loadConfig(process.argv[2]);
const tlsFiles = cfg.tls && {
  ca: fs.readFileSync(cfg.tls.caFile),
  cert: cfg.tls.certFile ? fs.readFileSync(cfg.tls.certFile) : undefined,
  key: cfg.tls.keyFile ? fs.readFileSync(cfg.tls.keyFile) : undefined,
};
const deadline = Date.now() + cfg.maxSeconds * 1000;

// ---- RESP2 ----

function encode(args) {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`;
  return out;
}

/** Parses one reply at buf[i..]: {value, end}, or null while incomplete. Error replies are RespError values. */
function parse(buf, i) {
  const nl = buf.indexOf('\r\n', i);
  if (nl < 0) return null;
  const type = buf[i];
  const line = buf.toString('utf8', i + 1, nl);
  const next = nl + 2;
  switch (type) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new RespError(line), end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: { // $
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case 0x2a: { // *
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = [];
      let p = next;
      for (let k = 0; k < n; k++) {
        const r = parse(buf, p);
        if (r === null) return null;
        items.push(r.value);
        p = r.end;
      }
      return { value: items, end: p };
    }
    default:
      throw new Error(`protocol error: unexpected byte 0x${type.toString(16)}`);
  }
}

/** One connection, one command in flight at a time; any error or timeout kills the connection. */
class Conn {
  static open(host, port) {
    return new Promise((resolve, reject) => {
      const sock = tlsFiles
        ? tls.connect({ host, port, ...tlsFiles, servername: cfg.tls.servername || (net.isIP(host) ? undefined : host) })
        : net.connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, COMMAND_TIMEOUT_MS);
      sock.once(tlsFiles ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new Conn(sock, `${host}:${port}`));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        sock.destroy();
        reject(new Error(`connect to ${host}:${port}: ${e.message}`));
      });
    });
  }

  constructor(sock, addr) {
    this.sock = sock;
    this.addr = addr;
    this.buf = Buffer.alloc(0);
    this.pending = null;
    this.dead = null;
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.drain();
    });
    sock.on('error', (e) => this.kill(e));
    sock.on('close', () => this.kill(new Error('connection closed')));
  }

  drain() {
    while (this.pending) {
      let r;
      try {
        r = parse(this.buf, 0);
      } catch (e) {
        this.kill(e);
        return;
      }
      if (r === null) return;
      this.buf = this.buf.subarray(r.end);
      const p = this.pending;
      this.pending = null;
      clearTimeout(p.timer);
      if (r.value instanceof RespError) p.reject(r.value);
      else p.resolve(r.value);
    }
  }

  kill(err) {
    if (!this.dead) this.dead = err;
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.sock.destroy();
  }

  command(args) {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.kill(new Error(`${args[0]} timed out after ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
      this.pending = { resolve, reject, timer };
      this.sock.write(encode(args));
    });
  }
}

async function auth(conn, username, password) {
  if (password === undefined || password === null) return;
  await conn.command(username ? ['AUTH', username, password] : ['AUTH', password]);
}

// ---- discovery and the write loop ----

async function discover() {
  if (cfg.mode === 'direct') return { host: cfg.host, port: cfg.port };
  const errors = [];
  for (const s of cfg.sentinels) {
    let conn;
    try {
      conn = await Conn.open(s.host, s.port);
      await auth(conn, cfg.sentinelUsername, cfg.sentinelPassword);
      const r = await conn.command(['SENTINEL', 'get-master-addr-by-name', cfg.masterName]);
      if (Array.isArray(r) && r.length === 2) return { host: r[0], port: Number(r[1]) };
      errors.push(`${s.host}:${s.port} knows no master ${cfg.masterName}`);
    } catch (e) {
      errors.push(`${s.host}:${s.port}: ${e.message}`);
    } finally {
      if (conn) conn.kill(new Error('done'));
    }
  }
  throw new Error(`no sentinel named a primary: ${errors.join('; ')}`);
}

async function connectPrimary() {
  const a = await discover();
  const conn = await Conn.open(a.host, a.port);
  try {
    await auth(conn, cfg.username, cfg.password);
    if (cfg.mode === 'sentinel') {
      const role = await conn.command(['ROLE']);
      if (!Array.isArray(role) || role[0] !== 'master') throw new Error(`${conn.addr} is ${Array.isArray(role) ? role[0] : role}, not master`);
    }
    return conn;
  } catch (e) {
    conn.kill(e);
    throw e;
  }
}

const acked = [];
let attempts = 0;
let finished = false;
let conn = null;
let wake = null; // resolves the current sleep early on finish

function emit(ev) {
  if (!finished) process.stdout.write(`${JSON.stringify(ev)}\n`);
}

function pause(ms) {
  const wait = Math.min(ms, deadline - Date.now());
  if (wait <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, wait);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

function finish(reason) {
  if (finished) return;
  const done = { ev: 'done', acked, attempts, reason };
  finished = true;
  if (conn) conn.kill(new Error('finished'));
  if (wake) wake();
  process.stdout.write(`${JSON.stringify(done)}\n`, () => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}

async function main() {
  while (!finished && attempts < cfg.maxWrites && Date.now() < deadline) {
    if (conn === null) {
      try {
        conn = await connectPrimary();
      } catch (e) {
        emit({ ev: 'err', seq: null, t: Date.now(), stage: 'connect', msg: e.message });
        await pause(cfg.retryMs);
        continue;
      }
    }
    const seq = ++attempts;
    try {
      const r = await conn.command(['SET', `${cfg.keyPrefix}:${seq}`, String(seq)]);
      if (r !== 'OK') throw new Error(`unexpected reply ${JSON.stringify(r)}`);
      if (finished) break;
      acked.push(seq);
      emit({ ev: 'ack', seq, t: Date.now(), addr: conn.addr });
      if (cfg.intervalMs > 0) await pause(cfg.intervalMs);
    } catch (e) {
      emit({ ev: 'err', seq, t: Date.now(), stage: 'write', addr: conn ? conn.addr : undefined, msg: e.message });
      if (conn) conn.kill(e);
      conn = null;
      await pause(cfg.retryMs);
    }
  }
  finish(attempts >= cfg.maxWrites ? 'maxWrites' : finished ? 'signal' : 'maxSeconds');
}

process.on('SIGTERM', () => finish('SIGTERM'));
process.on('SIGINT', () => finish('SIGINT'));
process.stdout.on('error', () => process.exit(0)); // reader gone
main().catch((e) => {
  process.stderr.write(`writer: ${e.stack || e}\n`);
  finish(`crash: ${e.message}`);
});
