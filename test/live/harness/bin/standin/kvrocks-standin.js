#!/usr/bin/env node
/**
 * Stand-in for Kvrocks in the live tests (no Kvrocks binary is in the registries these machines
 * reach): redis-server on a private unix socket, and in front of it, on Kvrocks's port, a byte proxy
 * that answers the few commands where Kvrocks and Redis differ as Kvrocks's source does:
 *
 * - BGSAVE: Kvrocks writes a RocksDB checkpoint to `<backup-dir>.tmp` and renames it to backup-dir
 *   (src/storage/storage.cc, Storage::CreateBackup) and replies +OK. Here: Redis SAVEs into the db
 *   directory, then the db directory is copied to `<dir>/backup.tmp` and renamed to `<dir>/backup`.
 * - INFO persistence: bgsave_in_progress, last_bgsave_time (start of the last BGSAVE), last_bgsave_status
 *   (src/server/server.cc).
 * - INFO server: kvrocks_version.
 *
 * Every other byte passes through unchanged (replication, sentinels, clients). An intercepted
 * command is sent on as `ECHO <marker>` so its reply keeps its place in the stream (and an
 * unauthenticated one gets Redis's NOAUTH error); the marker's reply is replaced by Kvrocks's answer.
 * Usage: kvrocks-standin.js REDIS_CONF UNIX_SOCKET PORT DIR
 */
'use strict';
const net = require('net');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { spawn } = require('child_process');

const [conf, sock, port, dir] = process.argv.slice(2);
const VERSION = '2.17.0';
const started = Math.floor(Date.now() / 1000);
const state = { lastBgsave: started, status: 'ok' };

const redis = spawn('redis-server', [conf], { stdio: 'inherit' });
redis.on('exit', (code) => process.exit(code === null ? 1 : code));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => redis.kill(sig));

/** Storage::CreateBackup, with the db directory standing in for RocksDB's checkpoint. */
function checkpoint() {
  const start = Math.floor(Date.now() / 1000);
  const tmp = path.join(dir, 'backup.tmp');
  const dst = path.join(dir, 'backup');
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(path.join(dir, 'db'), tmp, { recursive: true });
    fs.rmSync(dst, { recursive: true, force: true });
    fs.renameSync(tmp, dst);
    state.status = 'ok';
  } catch (e) {
    process.stderr.write(`kvrocks stand-in: checkpoint failed: ${e.message}\n`);
    state.status = 'err';
  }
  state.lastBgsave = start;
}

const bulk = (text) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
const array = (args) => `*${args.length}\r\n${args.map(bulk).join('')}`;
const answers = {
  checkpoint: () => { checkpoint(); return ''; },
  persistence: () => bulk(`# Persistence\r\nloading:0\r\nbgsave_in_progress:0\r\nlast_bgsave_time:${state.lastBgsave}\r\nlast_bgsave_status:${state.status}\r\nlast_bgsave_time_sec:0\r\n`),
  server: () => bulk(`# Server\r\nversion:${VERSION}\r\nkvrocks_version:${VERSION}\r\nkvrocks_git_sha1:standin\r\nredis_mode:standalone\r\ntcp_port:${port}\r\n`),
};

/** Complete commands at the start of `buf` (RESP arrays or inline lines), and what is left. */
function parseCommands(buf) {
  const cmds = [];
  let i = 0;
  while (i < buf.length) {
    if (buf[i] === 0x2a) {
      const nl = buf.indexOf('\r\n', i);
      if (nl < 0) break;
      const n = parseInt(buf.toString('latin1', i + 1, nl), 10);
      let j = nl + 2;
      const args = [];
      let complete = true;
      for (let k = 0; k < n; k++) {
        if (j >= buf.length) { complete = false; break; }
        const nl2 = buf.indexOf('\r\n', j);
        if (nl2 < 0) { complete = false; break; }
        const len = parseInt(buf.toString('latin1', j + 1, nl2), 10);
        if (nl2 + 2 + len + 2 > buf.length) { complete = false; break; }
        args.push(buf.toString('latin1', nl2 + 2, nl2 + 2 + len));
        j = nl2 + 2 + len + 2;
      }
      if (!complete) break;
      cmds.push({ raw: buf.subarray(i, j), args });
      i = j;
    } else {
      const nl = buf.indexOf('\n', i);
      if (nl < 0) break;
      cmds.push({ raw: buf.subarray(i, nl + 1), args: buf.toString('latin1', i, nl).trim().split(/\s+/).filter(Boolean) });
      i = nl + 1;
    }
  }
  return { cmds, rest: buf.subarray(i) };
}

const MARKER_PREFIX = 'standin-';
const markerFor = () => MARKER_PREFIX + crypto.randomBytes(20).toString('hex');
const HEAD = Buffer.from(`$${markerFor().length}\r\n${MARKER_PREFIX}`);
const REPLY_LEN = Buffer.byteLength(bulk(markerFor()));

net.createServer((client) => {
  const upstream = net.connect(sock);
  const pending = new Map();
  let inBuf = Buffer.alloc(0);
  let outBuf = Buffer.alloc(0);
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close); upstream.on('error', close);
  client.on('close', close); upstream.on('close', close);

  client.on('data', (chunk) => {
    inBuf = Buffer.concat([inBuf, chunk]);
    const { cmds, rest } = parseCommands(inBuf);
    inBuf = Buffer.from(rest);
    for (const c of cmds) {
      const name = (c.args[0] || '').toUpperCase();
      const section = (c.args[1] || '').toLowerCase();
      const action = name === 'BGSAVE' ? 'checkpoint' : name === 'INFO' && (section === 'persistence' || section === 'server') ? section : undefined;
      if (!action) { upstream.write(c.raw); continue; }
      const marker = markerFor();
      pending.set(marker, action);
      upstream.write((action === 'checkpoint' ? array(['SAVE']) : '') + array(['ECHO', marker]));
    }
  });

  upstream.on('data', (chunk) => {
    if (pending.size === 0 && outBuf.length === 0) { client.write(chunk); return; }
    let buf = Buffer.concat([outBuf, chunk]);
    const out = [];
    for (;;) {
      const at = buf.indexOf(HEAD);
      if (at < 0) {
        // Hold back a tail that could begin a marker's reply; a complete reply never ends inside one.
        let hold = 0;
        for (let k = Math.min(HEAD.length - 1, buf.length); k > 0; k--) {
          if (buf.subarray(buf.length - k).equals(HEAD.subarray(0, k))) { hold = k; break; }
        }
        out.push(buf.subarray(0, buf.length - hold));
        buf = buf.subarray(buf.length - hold);
        break;
      }
      if (buf.length < at + REPLY_LEN) { out.push(buf.subarray(0, at)); buf = buf.subarray(at); break; }
      const marker = buf.toString('latin1', at + HEAD.length - MARKER_PREFIX.length, at + REPLY_LEN - 2);
      out.push(buf.subarray(0, at));
      const action = pending.get(marker);
      if (action) { pending.delete(marker); out.push(Buffer.from(answers[action]())); } else out.push(buf.subarray(at, at + REPLY_LEN));
      buf = buf.subarray(at + REPLY_LEN);
    }
    outBuf = Buffer.from(buf);
    const data = Buffer.concat(out);
    if (data.length > 0) client.write(data);
  });
}).listen(Number(port), '0.0.0.0');
