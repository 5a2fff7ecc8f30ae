// SPDX-License-Identifier: MIT
// The JavaScript worker: runs a Bun-runtime app (`export default { fetch | routes, onIdle,
// onTerminate }`) under Bun or Node, speaking the supervisor's wire contract through the
// buntime_js addon (frames, rings and doorbells stay in C++; see js/addon/src/addon.cpp).
//
//   <bun|node> worker.mjs <the buntime-worker argv of proto/launch.h>
// Environment (besides the app's): BUNTIME_CHANNEL, BUNTIME_JS_ADDON (the addon's path),
// BUNTIME_AUTO_INSTALL=1 (run `bun install` first), BUNTIME_PUBLIC_ENV (names of the app
// env variables that go into HTML as window.__env__). The BUNTIME_* ones are removed from
// process.env before the app loads.
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

import { parseArgv } from './argv.mjs';
import { injectHtml } from './inject.mjs';
import { buildRouter } from './routes.mjs';

const require = createRequire(import.meta.url);
const addon = require(process.env.BUNTIME_JS_ADDON || new URL('./buntime_js.node', import.meta.url).pathname);
const isBun = typeof process.versions.bun === 'string';
const runtimeName = isBun ? `bun ${process.versions.bun}` : `node ${process.versions.node}`;

const WOULD_BLOCK = -1;
const CLOSED = -2;
const TOO_LARGE = -3;
const DEFAULT_ENTRYPOINTS = ['index.ts', 'index.tsx', 'index.js', 'index.mjs'];
// The Bun runtime's limits on response headers: extra headers are dropped, long values cut.
const MAX_HEADERS = 100;
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_HEADER_VALUE = 8 * 1024;
const TEXT_PLAIN = 'text/plain; charset=utf-8';

let category = 'buntime-js';
const log = (level, message) => addon.log(level, category, message);

function initFailed(reason) {
  log('error', `failed to start: ${reason}`);
  addon.sendInitFailed(reason);
  process.exit(1);
}

function errorText(e) {
  return e instanceof Error ? e.message || e.name : String(e);
}

// --- start-up --------------------------------------------------------------------------

let args;
try {
  args = parseArgv(process.argv.slice(2));
} catch (e) {
  initFailed(`bad arguments: ${errorText(e)}`);
}
category = `${args.name}@${args.version}`;
const control = {
  autoInstall: process.env.BUNTIME_AUTO_INSTALL === '1',
  publicNames: (process.env.BUNTIME_PUBLIC_ENV || '').split(',').filter(Boolean),
};
try {
  process.title = `buntime: worker ${category}`;
} catch {
  // not every runtime lets us
}

if (control.autoInstall) {
  const bun = isBun ? process.execPath : 'bun';
  const { spawnSync } = await import('node:child_process'); // only here: it costs start-up time
  const r = spawnSync(bun, ['install', '--frozen-lockfile', '--ignore-scripts'], { cwd: args.appDir, encoding: 'utf8' });
  if (r.error) initFailed(`autoInstall: cannot run ${bun}: ${r.error.message}`);
  if (r.status !== 0) initFailed(`bun install failed in ${args.appDir}: ${(r.stderr || r.stdout || '').trim()}`);
}

const appDir = realpathSync(args.appDir);
const entrypoint = args.entrypoint || DEFAULT_ENTRYPOINTS.find((f) => existsSync(resolve(appDir, f)));
if (!entrypoint) initFailed(`no entrypoint: none of ${DEFAULT_ENTRYPOINTS.join(', ')} in ${appDir}`);
const entryPath = resolve(appDir, entrypoint);
if (entryPath !== appDir && !entryPath.startsWith(appDir + sep)) {
  initFailed(`entrypoint "${entrypoint}" escapes the app directory`);
}
if (!existsSync(entryPath)) initFailed(`entrypoint ${entrypoint} does not exist in ${appDir}`);
const ext = extname(entryPath);
if (!isBun && (ext === '.tsx' || ext === '.jsx' || (ext === '.ts' && !process.features?.typescript))) {
  initFailed(`runtime: node (${process.versions.node}) cannot run ${entrypoint}: ` +
    (ext === '.ts' ? 'this Node has no TypeScript type stripping' : 'Node has no JSX') +
    '; use runtime: bun, or ship plain .js/.mjs');
}

// The names Bun's runtime exposes: the app env matching envPrefix (computed by the supervisor).
const publicEnv = {};
for (const name of control.publicNames) {
  if (process.env[name] !== undefined) publicEnv[name] = process.env[name];
}
const hasPublicEnv = Object.keys(publicEnv).length > 0;
for (const name of ['BUNTIME_JS_ADDON', 'BUNTIME_AUTO_INSTALL', 'BUNTIME_PUBLIC_ENV']) delete process.env[name];

let app;
try {
  app = (await import(pathToFileURL(entryPath).href)).default;
} catch (e) {
  initFailed(`cannot load ${entrypoint}: ${errorText(e)}`);
}
if (!app || (typeof app.fetch !== 'function' && !app.routes)) {
  initFailed(`${entrypoint} exports neither fetch nor routes (expected export default { fetch } or { routes })`);
}
const handle = app.routes ? buildRouter(app) : (req) => app.fetch(req);

// An app's stray error (a timer that throws, a promise nobody awaits) is logged; it does not
// take the other requests down. process.exit() still ends the worker.
process.on('uncaughtException', (e) => log('error', `uncaught exception: ${e?.stack || errorText(e)}`));
process.on('unhandledRejection', (e) => log('error', `unhandled rejection: ${e?.stack || errorText(e)}`));

// --- serving ---------------------------------------------------------------------------

const live = new Map(); // request id -> Exchange
let inFlight = 0;
let terminating = false;
let spaceWait = null;
let spaceResolve = null;
const port = addon.open(onEvents, args.maxBody);
const maxPayload = port.maxPayload;

function waitSpace(bytes) {
  if (!spaceWait) {
    spaceWait = new Promise((r) => (spaceResolve = r));
    addon.armSpace(bytes);
  }
  return spaceWait;
}

class Exchange {
  constructor(id, receivedNs) {
    this.id = id;
    this.receivedNs = receivedNs;
    this.cancelled = false;
    this.finished = false;
    this.body = null; // ReadableStream controller while the request body arrives
    this.abort = null;
  }
}

function release(ex) {
  if (ex.finished) return;
  ex.finished = true;
  live.delete(ex.id);
  inFlight--;
  if (terminating && inFlight === 0) exitSoon();
}

// Writes one piece of the response: the head first (with as much body as fits), then body
// frames; waits for space when the ring is full. False when the request is gone.
async function write(ex, state, chunk, last) {
  let off = 0;
  for (;;) {
    if (ex.cancelled) return false;
    const rc = state.headSent
      ? addon.sendBody(ex.id, chunk, off, last)
      : addon.sendHead(ex.id, state.status, state.headers, state.length, chunk, off, last, ex.receivedNs);
    if (rc >= 0) {
      state.headSent = true;
      off += rc;
      if (off >= (chunk ? chunk.length : 0)) return true;
      continue;
    }
    if (rc === WOULD_BLOCK) {
      await waitSpace(Math.min(maxPayload, (chunk ? chunk.length - off : 0) + 4096));
      continue;
    }
    if (rc === TOO_LARGE) {
      failRequest(ex, 'response head does not fit a frame');
      return false;
    }
    return false; // CLOSED: the supervisor is gone; the Closed event ends the process
  }
}

async function sendError(ex, reason) {
  while (!ex.cancelled) {
    const rc = addon.sendError(ex.id, reason);
    if (rc !== WOULD_BLOCK) return;
    await waitSpace(4096);
  }
}

function failRequest(ex, reason) {
  log('warn', `request ${ex.id} failed: ${reason}`);
  sendError(ex, reason).finally(() => release(ex));
}

async function simple(id, status, text) {
  const ex = new Exchange(id, 0);
  const bytes = new TextEncoder().encode(text);
  await write(ex, { status, headers: ['content-type', TEXT_PLAIN], length: bytes.length, headSent: false }, bytes, true);
}

function responseHeaders(res) {
  const out = [];
  let total = 0;
  let type = null;
  for (const [name, raw] of res.headers) {
    if (name === 'content-length' || name === 'transfer-encoding') continue;
    if (out.length / 2 >= MAX_HEADERS) break;
    const value = raw.length > MAX_HEADER_VALUE ? raw.slice(0, MAX_HEADER_VALUE) : raw;
    if (total + name.length + value.length > MAX_HEADER_BYTES) break;
    total += name.length + value.length;
    if (name === 'content-type') type = value;
    out.push(name, value);
  }
  if (type === null) {
    out.push('content-type', TEXT_PLAIN);
    type = TEXT_PLAIN;
  }
  return { headers: out, type };
}

const immediate = () => new Promise((r) => setImmediate(r));

async function sendResponse(ex, res, base, method) {
  if (!(res instanceof Response)) throw new TypeError(`handler returned ${res === null ? 'null' : typeof res}, not a Response`);
  const { headers, type } = responseHeaders(res);
  const state = { status: res.status, headers, length: -1, headSent: false };
  if (res.body === null || method === 'HEAD') {
    state.length = 0;
    if (res.body && method === 'HEAD') res.body.cancel().catch(() => {});
    return write(ex, state, null, true);
  }
  if (type.includes('text/html') && (args.injectBase || hasPublicEnv)) {
    const text = injectHtml(await res.text(), { base, injectBase: args.injectBase, publicEnv: hasPublicEnv ? publicEnv : null });
    const bytes = new TextEncoder().encode(text);
    state.length = bytes.length;
    return write(ex, state, bytes, true);
  }
  const reader = res.body.getReader();
  ex.reader = reader;
  let first = await reader.read();
  if (first.done) {
    state.length = 0;
    return write(ex, state, null, true);
  }
  // A body that is already whole (a string, a buffer) ends at the next read without waiting:
  // then it goes out with its length in one frame; otherwise it streams as it is produced.
  let next = reader.read();
  const settled = await Promise.race([next, immediate().then(() => null)]);
  if (settled && settled.done) {
    state.length = first.value.length;
    return write(ex, state, toBytes(first.value), true);
  }
  if (!(await write(ex, state, toBytes(first.value), false))) return false;
  for (;;) {
    const r = await next;
    if (r.done) return write(ex, state, null, true);
    if (!(await write(ex, state, toBytes(r.value), false))) {
      reader.cancel().catch(() => {});
      return false;
    }
    next = reader.read();
  }
}

function toBytes(v) {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return new TextEncoder().encode(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new TypeError('response body chunk is not bytes');
}

function onRequest(ev) {
  const [, id, method, path, query, base, , flat, contentLength, firstBody, more, receivedNs] = ev;
  if (terminating) return refuse(id, 503, 'worker is terminating\n', more);
  if (inFlight >= args.concurrency) {
    log('warn', `request ${id} over the concurrency limit ${args.concurrency}`);
    return refuse(id, 503, 'worker is at its concurrency limit\n', more);
  }
  if (contentLength > args.maxBody || firstBody.length > args.maxBody) return refuse(id, 413, 'request body too large\n', more);

  const ex = new Exchange(id, receivedNs);
  live.set(id, ex);
  inFlight++;
  const headers = new Headers();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    try {
      headers.append(flat[i], flat[i + 1]);
    } catch {
      // a name or value Headers refuses: the app never sees it
    }
  }
  let body = null;
  if (method !== 'GET' && method !== 'HEAD') {
    if (more) {
      body = new ReadableStream({
        start(controller) {
          ex.body = controller;
          if (firstBody.length) controller.enqueue(firstBody);
        },
        cancel() {
          ex.body = null;
        },
      });
    } else if (firstBody.length || contentLength === 0) {
      body = firstBody;
    }
  } else if (more) {
    ex.discardBody = true;
  }
  let req;
  let pathname;
  try {
    ex.abort = new AbortController();
    const host = headers.get('host') || 'localhost';
    let url;
    try {
      url = new URL(path + (query ? `?${query}` : ''), `http://${host}`);
    } catch {
      url = new URL(path + (query ? `?${query}` : ''), 'http://localhost');
    }
    req = new Request(url, { method, headers, body, duplex: 'half', signal: ex.abort.signal });
    pathname = url.pathname;
  } catch (e) {
    release(ex);
    return refuse(id, 400, `bad request: ${errorText(e)}\n`, false);
  }
  run(ex, req, pathname, base, method);
}

async function run(ex, req, pathname, base, method) {
  try {
    const res = await handle(req, pathname);
    if (ex.cancelled) return;
    await sendResponse(ex, res, base, method);
    release(ex);
  } catch (e) {
    if (ex.cancelled) return;
    failRequest(ex, errorText(e));
  }
}

function refuse(id, status, text, more) {
  if (more) live.set(id, { id, refused: true, finished: true });
  simple(id, status, text);
}

function onBody(ev) {
  const [, id, chunk, more, tooLarge] = ev;
  const ex = live.get(id);
  if (!ex) return;
  if (ex.refused) {
    if (!more) live.delete(id);
    return;
  }
  if (tooLarge) {
    if (ex.body) ex.body.error(new Error('request body too large'));
    ex.body = null;
    ex.cancelled = true; // nothing more of ours goes out for it but the 413
    simple(id, 413, 'request body too large\n').finally(() => {
      ex.cancelled = true;
      release(ex);
    });
    return;
  }
  if (ex.body) {
    if (chunk.length) ex.body.enqueue(chunk);
    if (!more) {
      ex.body.close();
      ex.body = null;
    }
  }
}

function onCancel(id) {
  const ex = live.get(id);
  if (!ex) return;
  if (ex.refused) return live.delete(id);
  ex.cancelled = true;
  try {
    ex.body?.error(new Error('request cancelled'));
  } catch {
    // already closed
  }
  ex.body = null;
  ex.abort?.abort();
  ex.reader?.cancel().catch(() => {});
  release(ex);
}

function callHook(name) {
  if (typeof app[name] !== 'function') return Promise.resolve();
  try {
    return Promise.resolve(app[name]()).catch((e) => log('error', `${name} threw: ${errorText(e)}`));
  } catch (e) {
    log('error', `${name} threw: ${errorText(e)}`);
    return Promise.resolve();
  }
}

function exitSoon() {
  if (!terminating || !hookDone) return;
  if (inFlight > 0) return;
  log('info', 'exiting (status 0)');
  process.exit(0);
}
let hookDone = false;

function onTerminate(graceMs) {
  if (terminating) return;
  terminating = true;
  log('info', `terminating (grace ${graceMs} ms, ${inFlight} in flight)`);
  setTimeout(() => {
    if (inFlight > 0) log('warn', `grace elapsed with ${inFlight} requests in flight`);
    log('info', 'exiting (status 0)');
    process.exit(0);
  }, Math.max(0, graceMs));
  callHook('onTerminate').finally(() => {
    hookDone = true;
    exitSoon();
  });
}

function onEvents(batch) {
  for (const ev of batch) {
    switch (ev[0]) {
      case 0: onRequest(ev); break;
      case 1: onBody(ev); break;
      case 2: onCancel(ev[1]); break;
      case 3:
        log('debug', 'idle');
        callHook('onIdle');
        break;
      case 4: onTerminate(ev[1]); break;
      case 5:
        log(ev[1] === 'supervisor is gone' ? 'info' : 'error', `${ev[1]}, exiting`);
        process.exit(ev[1] === 'supervisor is gone' ? 0 : 3);
        break;
      case 6: {
        const r = spaceResolve;
        spaceWait = spaceResolve = null;
        r?.();
        break;
      }
      default: break;
    }
  }
}

if (!addon.sendReady(args.concurrency)) {
  log('error', 'cannot send Ready: the supervisor is gone');
  process.exit(0);
}
log('debug', `ready (js, ${runtimeName}, ${entrypoint})`);
