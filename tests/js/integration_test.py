#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# JavaScript apps through the real supervisor: the Bun runtime's contract (fetch, routes,
# onIdle/onTerminate), bodies both ways, concurrency, failures (exception, crash, timeout, a
# module without fetch/routes), ephemeral apps, runtime: node, .env + envPrefix, odd bytes.
#
# Usage: integration_test.py BUNTIME_BINARY   (needs bun on PATH or RUNTIME_BUN: scripts/setup)
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print(f'FAIL: {what}', flush=True)
    else:
        print(f'ok: {what}', flush=True)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


MANIFEST = 'ttl: 5m\ntimeout: 5s\nidleTimeout: 1s\n'
APPS = {
    'fetchapp/manifest.yaml': MANIFEST,
    'fetchapp/index.ts': '''
export default {
  async fetch(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/boom") throw new Error("kaboom from the handler");
    if (url.pathname === "/wait") { await new Promise((r) => setTimeout(r, 300)); return new Response("waited"); }
    if (url.pathname === "/echo") {
      const body = new Uint8Array(await req.arrayBuffer());
      return Response.json({ bytes: body.length, method: req.method });
    }
    if (url.pathname === "/big") return new Response(new Uint8Array(10 * 1024 * 1024).fill(97));
    if (url.pathname === "/headers") return Response.json({ odd: req.headers.get("x-odd"), path: url.pathname });
    if (url.pathname === "/exit") { setTimeout(() => process.exit(7), 50); await new Promise((r) => setTimeout(r, 5000)); }
    if (url.pathname === "/hang") await new Promise((r) => setTimeout(r, 60000));
    return new Response(`pid ${process.pid} ${req.method} ${url.pathname}${url.search}`);
  },
};
''',
    'routesapp/manifest.yaml': MANIFEST,
    'routesapp/index.ts': '''
export default {
  routes: {
    "/static": new Response("static body"),
    "/users/:id/posts/:post": (req: any) => Response.json(req.params),
    "/thing": { GET: () => new Response("got"), POST: async (req: Request) => new Response("posted " + await req.text()) },
  },
  fetch(req: Request) { return new Response("fallback " + new URL(req.url).pathname, { status: 404 }); },
};
''',
    'streamapp/manifest.yaml': MANIFEST,
    'streamapp/index.js': '''
export default {
  fetch(req) {
    if (req.method === "POST") return new Response(req.body);
    let i = 0;
    return new Response(new ReadableStream({
      async pull(c) {
        if (i >= 3) return c.close();
        if (i > 0) await new Promise((r) => setTimeout(r, 400));
        c.enqueue(new TextEncoder().encode(`chunk ${++i}\\n`));
      },
    }));
  },
};
''',
    'hooksapp/manifest.yaml': MANIFEST,
    'hooksapp/index.mjs': '''
import { appendFileSync } from "node:fs";
const log = (s) => appendFileSync(process.env.HOOK_LOG, s + "\\n");
export default {
  fetch() { return new Response("hooked"); },
  onIdle() { log("idle"); },
  onTerminate() { log("terminate"); },
};
''',
    'neither/manifest.yaml': MANIFEST,
    'neither/index.js': 'export default { hello: 1 };\n',
    'ephemeral/manifest.yaml': 'ttl: 0\ntimeout: 5s\n',
    'ephemeral/index.js': 'export default { fetch: () => new Response("eph " + process.pid) };\n',
    'nodeapp/manifest.yaml': 'ttl: 5m\ntimeout: 5s\nruntime: node\n',
    'nodeapp/index.mjs': 'export default { fetch: (req) => new Response("node " + process.versions.node + " " + typeof process.versions.bun) };\n',
    'nodets/manifest.yaml': 'ttl: 5m\ntimeout: 5s\nruntime: node\n',
    'nodets/index.ts': 'export default { fetch: (req: Request) => new Response("ts") };\n',
    'envapp/manifest.yaml': 'ttl: 5m\ntimeout: 5s\ninjectBase: true\nenv:\n  PUBLIC_A: "from-manifest"\n  SECRETISH: hidden\n',
    'envapp/.env': 'PUBLIC_A=from-dotenv\nPUBLIC_B="</script><b>x"\nVITE_C=c\nPRIVATE_D=d\n',
    'envapp/index.ts': '''
export default {
  fetch(req: Request) {
    if (new URL(req.url).pathname === "/env") return Response.json({ a: process.env.PUBLIC_A, d: process.env.PRIVATE_D });
    return new Response("<html><head><title>t</title></head><body></body></html>", { headers: { "content-type": "text/html" } });
  },
};
''',
}


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def sanitize_env(env):
    """A sanitizer build (scripts/test --sanitize): the addon is instrumented, and bun or node
    are not, so their processes preload the compiler's ASan and UBSan runtimes (which must come
    first). Leak checks are off there (the JavaScript engines keep memory until exit), and the
    worker memory cap is off (ASan's shadow memory)."""
    preload = []
    for lib in ('libasan.so', 'libubsan.so'):
        path = subprocess.run(['g++', f'-print-file-name={lib}'], capture_output=True, text=True).stdout.strip()
        if not os.path.isabs(path):
            raise SystemExit(f'FAIL: sanitizer run, but g++ does not know {lib}')
        preload.append(os.path.realpath(path))
    return {'LD_PRELOAD': ' '.join(preload + ([env['LD_PRELOAD']] if env.get('LD_PRELOAD') else [])),
            'ASAN_OPTIONS': ':'.join(filter(None, [env.get('ASAN_OPTIONS'), 'detect_leaks=0'])),
            'RUNTIME_WORKER_MAX_MEMORY': '0'}


class Supervisor:
    def __init__(self, binary, apps_dir, env_extra):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith('RUNTIME_') and k != 'PORT'}
        if os.environ.get('BUNTIME_SANITIZE'):
            env.update(sanitize_env(env))
        env.update({'PORT': str(self.port), 'RUNTIME_WORKER_DIRS': apps_dir}, **env_extra)
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([binary], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError('supervisor did not listen')

    def request(self, method, path, body=None, headers=None, timeout=30):
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data, r

    def text(self):
        self.log.seek(0)
        return self.log.read().decode('utf-8', 'replace')

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -1


def parallel(n, fn):
    out = [None] * n
    def run(i):
        try:
            out[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported as a result
            out[i] = e
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def main():
    binary = sys.argv[1]
    bun = os.environ.get('RUNTIME_BUN') or shutil.which('bun')
    if not bun:
        print('FAIL: bun is not installed (scripts/setup installs it)')
        return 1
    tmp = tempfile.mkdtemp(prefix='buntime-js-test-')
    hook_log = os.path.join(tmp, 'hooks.log')
    for rel, text in APPS.items():
        write(os.path.join(tmp, 'apps', rel), text)
    sup = Supervisor(binary, os.path.join(tmp, 'apps'), {'HOOK_LOG': hook_log})
    try:
        st, body, _ = sup.request('GET', '/fetchapp/hello?x=1')
        check(st == 200 and body.endswith(b'GET /hello?x=1'), f'fetch app answers ({st} {body[:60]!r})')
        pid1 = body.split()[1]

        st, body, _ = sup.request('GET', '/routesapp/static')
        check((st, body) == (200, b'static body'), 'routes: a static Response')
        st, body, _ = sup.request('GET', '/routesapp/static')
        check((st, body) == (200, b'static body'), 'routes: a static Response twice')
        st, body, _ = sup.request('GET', '/routesapp/users/7/posts/x%20y')
        check(st == 200 and json.loads(body) == {'id': '7', 'post': 'x y'}, f'routes: req.params ({body!r})')
        st, body, _ = sup.request('POST', '/routesapp/thing', body=b'abc')
        check((st, body) == (200, b'posted abc'), 'routes: per-method handler (POST)')
        st, body, _ = sup.request('GET', '/routesapp/thing')
        check((st, body) == (200, b'got'), 'routes: per-method handler (GET)')
        st, body, _ = sup.request('GET', '/routesapp/other')
        check((st, body) == (404, b'fallback /other'), 'routes: fetch fallback')

        # A streamed response: the first chunk arrives before the stream ends (the worker is
        # started first, so its start-up is not counted).
        sup.request('POST', '/streamapp/', body=b'warm')
        c = http.client.HTTPConnection('127.0.0.1', sup.port, timeout=10)
        t0 = time.monotonic()
        c.request('GET', '/streamapp/')
        r = c.getresponse()
        first = r.fp.readline()
        if r.chunked:
            first = r.fp.readline()
        t_first = time.monotonic() - t0
        rest = r.read() if not r.chunked else None
        c.close()
        check(first.startswith(b'chunk 1') and t_first < 0.75, f'streaming: the first chunk comes early ({t_first:.2f}s)')
        st, body, _ = sup.request('GET', '/streamapp/')
        check(body == b'chunk 1\nchunk 2\nchunk 3\n', 'streaming: all chunks')

        big = os.urandom(10 * 1024 * 1024)
        st, body, _ = sup.request('POST', '/streamapp/', body=big)
        check(st == 200 and body == big, '10 MB request body streamed back intact')
        st, body, _ = sup.request('POST', '/fetchapp/echo', body=big)
        check(st == 200 and json.loads(body) == {'bytes': len(big), 'method': 'POST'}, '10 MB request body read whole')
        st, body, _ = sup.request('GET', '/fetchapp/big')
        check(st == 200 and len(body) == 10 * 1024 * 1024 and body[:3] == b'aaa', '10 MB response body')

        res = parallel(50, lambda i: sup.request('GET', '/fetchapp/wait'))
        check(all(not isinstance(r, Exception) and r[0] == 200 and r[1] == b'waited' for r in res),
              '50 requests in flight all succeed')

        def mixed(i):
            return sup.request('GET', '/fetchapp/boom' if i % 5 == 0 else '/fetchapp/wait')
        res = parallel(20, mixed)
        ok = all(r[0] == (500 if i % 5 == 0 else 200) for i, r in enumerate(res) if not isinstance(r, Exception))
        check(ok and not any(isinstance(r, Exception) for r in res), 'an exception gives 500 for that request only')
        check('kaboom from the handler' in sup.text(), 'the exception message is in the log')
        st, body, _ = sup.request('GET', '/fetchapp/again')
        check(st == 200 and body.split()[1] == pid1, 'the worker survives handler exceptions')

        res = parallel(4, lambda i: sup.request('GET', '/fetchapp/exit' if i == 0 else '/fetchapp/hello'))
        check(res[0][0] == 502, f'a crash (process.exit) gives 502 for the in-flight request ({res[0][0]})')
        st, body, _ = sup.request('GET', '/fetchapp/after')
        check(st == 200 and body.split()[1] != pid1, 'a replacement worker serves after the crash')
        pid2 = body.split()[1]
        os.kill(int(pid2), signal.SIGKILL)
        time.sleep(0.3)
        st, body, _ = sup.request('GET', '/fetchapp/afterkill')
        check(st == 200 and body.split()[1] != pid2, 'a replacement worker serves after kill -9')

        st, body, _ = sup.request('GET', '/fetchapp/hang', timeout=30)
        check(st == 504, f'the timeout gives 504 ({st})')
        st, body, _ = sup.request('GET', '/fetchapp/x')
        check(st == 200, 'a replacement serves after the timeout')

        st, body, _ = sup.request('GET', '/neither/')
        check(st == 503 and b'exports neither fetch nor routes' in body, f'no fetch/routes: 503 with the reason ({body[:120]!r})')
        check('exports neither fetch nor routes' in sup.text(), 'no fetch/routes: the reason is in the log')

        st, body, _ = sup.request('GET', '/ephemeral/')
        st2, body2, _ = sup.request('GET', '/ephemeral/')
        check(st == 200 and st2 == 200 and body != body2, f'ephemeral: a new process per request ({body!r} {body2!r})')

        if shutil.which('node') or os.environ.get('RUNTIME_NODE'):
            st, body, _ = sup.request('GET', '/nodeapp/')
            check(st == 200 and body.startswith(b'node ') and body.endswith(b'undefined'), f'runtime: node runs .mjs ({body!r})')
            st, body, _ = sup.request('GET', '/nodets/')
            major = int(subprocess.run(['node', '-p', 'process.versions.node.split(".")[0]'], capture_output=True,
                                       text=True).stdout or 0)
            if major < 22:
                check(st == 503 and b'TypeScript' in body, f'runtime: node on .ts fails clearly ({body[:120]!r})')

        st, body, _ = sup.request('GET', '/envapp/env')
        check(json.loads(body) == {'a': 'from-manifest', 'd': 'd'}, f'.env is merged under the manifest env ({body!r})')
        st, body, _ = sup.request('GET', '/envapp/page')
        text = body.decode()
        check('<head><base href="/envapp/" />' in text, f'injectBase for a JS app ({text!r})')
        check('window.__env__={"PUBLIC_A":"from-manifest","PUBLIC_B":"<\\/script><b>x","VITE_C":"c"};' in text,
              f'envPrefix: window.__env__ escaped as the Bun runtime does ({text!r})')
        check('PRIVATE_D' not in text and 'SECRETISH' not in text, 'envPrefix: other variables stay out')

        st, body, _ = sup.request('GET', '/fetchapp/headers', headers={'X-Odd': b'caf\xe9 \xff'})
        check(st == 200 and json.loads(body)['odd'] == 'caf\u00e9 \u00ff', f'non-UTF-8 header bytes pass ({body!r})')
        with socket.create_connection(('127.0.0.1', sup.port), 10) as raw:
            raw.sendall(b'GET /fetchapp/p\xe9\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
            data = b''
            while chunk := raw.recv(65536):
                data += chunk
        class R:
            status = int(data.split()[1]) if data.startswith(b'HTTP/1.1 ') else 0
        r = R()
        check(r.status == 200, f'non-UTF-8 bytes in the path do not break the worker ({r.status} {data[:80]!r})')
        st, body, _ = sup.request('GET', '/fetchapp/still')
        check(st == 200, 'the worker still serves after odd bytes')

        st, _, _ = sup.request('GET', '/hooksapp/')
        time.sleep(3.5)
    finally:
        code = sup.stop()
    hooks = open(hook_log).read().split() if os.path.exists(hook_log) else []
    check('idle' in hooks, f'onIdle is called ({hooks})')
    check('terminate' in hooks, f'onTerminate is called at shutdown ({hooks})')
    check(code == 0, f'the supervisor exits 0 ({code})')
    if FAILURES:
        print(sup.text()[-6000:])
        print(f'{len(FAILURES)} failed')
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
