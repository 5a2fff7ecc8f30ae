#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Command apps through the real supervisor: serving, env, crash, timeout, start failure,
# 10 MB each way, streaming, 50 in flight, ephemeral, non-UTF-8 output, gunicorn; the relay:
# chunked responses, many requests on few kept-alive connections, connections the app closes,
# broken or malformed responses (502 for that request only), a crash mid-response; and a
# JavaScript app whose runtime is missing gets the reason in its reply.
#
# Usage: command_test.py BUNTIME_BINARY EXAMPLES_DIR
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

BINARY, EXAMPLES = sys.argv[1], sys.argv[2]
failures = []
SPAWNED = []  # pids the pooled app forked: they must be gone after the supervisor stops
APPS = ""


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def get(port, path, timeout=60):
    return request(port, "GET", path, timeout=timeout)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def wait_until(pred, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def make_app(root, name, manifest_extra):
    d = os.path.join(root, name)
    os.makedirs(d)
    shutil.copy(os.path.join(EXAMPLES, "py-hello", "app.py"), d)
    with open(os.path.join(d, "manifest.yaml"), "w") as f:
        f.write(f'name: {name}\nversion: 1.0.0\ncommand: ["python3", "-u", "app.py"]\nconcurrency: 60\n{manifest_extra}')


def main():
    work = tempfile.mkdtemp(prefix="buntime-command-test-")
    global APPS
    apps = APPS = os.path.join(work, "apps")
    os.makedirs(apps)
    make_app(apps, "c-hello", "ttl: 5m\n")
    make_app(apps, "c-tcp", "ttl: 5m\nlisten: tcp\n")
    make_app(apps, "c-crash", "ttl: 5m\n")
    make_app(apps, "c-slow", "ttl: 0\ntimeout: 5s\n")
    make_app(apps, "c-eph", "ttl: 0\n")
    make_app(apps, "c-big", "ttl: 5m\nmaxBodySize: 20mb\n")
    make_app(apps, "c-few", 'ttl: 5m\nenv:\n  BUNTIME_COMMAND_CONNECTIONS: "2"\n')
    make_app(apps, "c-one", 'ttl: 5m\nenv:\n  BUNTIME_COMMAND_CONNECTIONS: "1"\n')
    make_app(apps, "c-partial", "ttl: 5m\n")
    os.makedirs(os.path.join(apps, "c-mute"))
    with open(os.path.join(apps, "c-mute", "manifest.yaml"), "w") as f:
        f.write('name: c-mute\nversion: 1.0.0\nttl: 5m\n'
                'command: python3 -c "import sys, time; print(\'not listening\', file=sys.stderr, flush=True); time.sleep(60)"\n'
                'env:\n  BUNTIME_COMMAND_START_TIMEOUT_MS: "1500"\n')
    os.makedirs(os.path.join(apps, "c-missing"))
    with open(os.path.join(apps, "c-missing", "manifest.yaml"), "w") as f:
        f.write('name: c-missing\nversion: 1.0.0\nttl: 5m\ncommand: ["no-such-program-xyz"]\n')

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTIME_")}
    env.update(PORT=str(port), RUNTIME_BIND="127.0.0.1", RUNTIME_WORKER_DIRS=f"{apps}:{EXAMPLES}",
               RUNTIME_STATE_DIR=os.path.join(work, "state"),
               RUNTIME_BUN=os.path.join(work, "no-bun-here"))  # js-hello cannot start: the reason must show
    if os.environ.get("BUNTIME_SANITIZE"):  # ASan workers need their shadow memory: no cap
        env["RUNTIME_WORKER_MAX_MEMORY"] = "0"
    log_path = os.path.join(work, "supervisor.log")
    log = open(log_path, "wb")
    sup = subprocess.Popen([BINARY], env=env, stdout=log, stderr=log)
    try:
        ok = wait_until(lambda: _live(port), 20)
        check(ok, "the supervisor answers /_/api/health/live")
        if ok:
            run(port, log_path)
    finally:
        sup.send_signal(signal.SIGTERM)
        try:
            check(sup.wait(30) == 0, "the supervisor exits 0 on SIGTERM")
        except subprocess.TimeoutExpired:
            sup.kill()
            sup.wait()
            check(False, "the supervisor exits within 30 s of SIGTERM")
        log.close()
    check(len(SPAWNED) == 2 and wait_until(lambda: not any(alive(p) for p in SPAWNED), 10),
          f"a retired app's descendants are gone: {[p for p in SPAWNED if alive(p)]}")
    leftovers = [p for p in os.listdir(tempfile.gettempdir()) if p.startswith("buntime-app-")]
    with open(log_path, "rb") as f:
        text = f.read()
    if failures:
        sys.stdout.write(text[-20000:].decode("utf-8", "replace"))
    shutil.rmtree(work, ignore_errors=True)
    del leftovers  # other tests may run command apps at the same time: not asserted
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("ok")


def _live(port):
    try:
        return get(port, "/_/api/health/live", timeout=1)[0] == 200
    except OSError:
        return False


def run(port, log_path):
    # Serves; the unix socket is named, the supervisor's PORT is not passed on.
    status, body = get(port, "/c-hello/")
    check(status == 200 and body == b"hello from python\n", f"hello serves: {status} {body[:200]!r}")
    status, body = get(port, "/c-hello/env")
    env = json.loads(body) if status == 200 else {}
    check(status == 200 and (env.get("BUNTIME_SOCKET") or "").endswith("app.sock"), f"BUNTIME_SOCKET is set: {env}")
    check(env.get("PORT") is None, f"the supervisor's PORT does not leak to a unix command app: {env}")
    status, body = get(port, "/c-hello/headers")
    headers = {k.lower(): v for k, v in json.loads(body).items()} if status == 200 else {}
    check(headers.get("x-base") == "/c-hello", f"the app sees x-base: {headers}")

    # listen: tcp gets its own loopback port, never the supervisor's.
    status, body = get(port, "/c-tcp/env")
    env = json.loads(body) if status == 200 else {}
    check(status == 200 and env.get("PORT") not in (None, str(port)), f"listen: tcp gets a PORT of its own: {env}")
    check(env.get("BUNTIME_SOCKET") is None, f"listen: tcp has no BUNTIME_SOCKET: {env}")

    # 10 MB each way.
    status, body = request(port, "POST", "/c-big/echo", body=b"a" * (10 * 1024 * 1024 - 1))
    check(status == 200 and json.loads(body).get("bytes") == 10 * 1024 * 1024 - 1, f"10 MB request body: {status}")
    status, body = get(port, "/c-big/big?size=10485760")
    check(status == 200 and len(body) == 10485760 and body.count(b"x") == 10485760, f"10 MB response: {len(body)}")
    status, body = request(port, "HEAD", "/c-hello/")
    check(status == 200 and body == b"", f"HEAD: {status} {body!r}")

    # Streaming: the first line arrives before the app wrote the last one (5 lines, 100 ms apart).
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/c-hello/stream")
    r = c.getresponse()
    t0 = time.monotonic()
    first = r.readline()
    t_first = time.monotonic() - t0
    rest = r.read()
    t_all = time.monotonic() - t0
    c.close()
    check(r.status == 200 and first == b"line 0\n" and rest.count(b"line") == 4, f"stream body: {first!r} {rest!r}")
    check(t_all - t_first >= 0.25, f"the response streams (first line {t_first:.3f}s, all {t_all:.3f}s)")

    # 50 requests in flight at once.
    results = []

    def one():
        try:
            results.append(get(port, "/c-hello/sleep?s=0.5"))
        except OSError as e:
            results.append((0, str(e).encode()))

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(len(results) == 50 and all(s == 200 and b == b"slept\n" for s, b in results),
          f"50 in flight: {[s for s, _ in results]}")

    # Non-UTF-8 output reaches the log escaped, with the app name.
    status, _ = get(port, "/c-hello/log")
    check(status == 200, "log route")
    wait_until(lambda: b"not utf-8" in open(log_path, "rb").read(), 5)
    text = open(log_path, "rb").read()
    check(b"[c-hello@1.0.0]" in text and b"stdout: stdout line from the app" in text, "app stdout is logged with the app name")
    check(b"stderr: stderr bytes \\xff\\xfe not utf-8" in text, "non-UTF-8 stderr is escaped in the log")
    try:
        text.decode("utf-8")
        check(True, "")
    except UnicodeDecodeError:
        check(False, "the log stays valid UTF-8")

    # Ephemeral (ttl: 0): one process per request.
    s1, p1 = get(port, "/c-eph/pid")
    s2, p2 = get(port, "/c-eph/pid")
    check(s1 == 200 and s2 == 200 and p1 != p2, f"ephemeral command app: {s1} {s2} {p1!r} {p2!r}")

    # Crash: the app exits; its in-flight requests get 502, then a replacement serves.
    _, pid_before = get(port, "/c-crash/pid")
    inflight = []
    t = threading.Thread(target=lambda: inflight.append(get(port, "/c-crash/sleep?s=5")))
    t.start()
    time.sleep(0.5)
    status, _ = get(port, "/c-crash/exit")
    t.join()
    check(status == 502, f"the request that killed the app gets 502: {status}")
    check(inflight and inflight[0][0] == 502, f"an in-flight request of a crashed app gets 502: {inflight}")
    time.sleep(1)  # a request sent while the dead app's worker is still exiting would get 502 too
    status, pid_after = get(port, "/c-crash/pid")
    check(status == 200 and pid_after != pid_before, f"a replacement serves after the crash: {status}")
    status, _ = get(port, "/c-hello/")
    check(status == 200, "other apps are not affected by the crash")

    # Timeout of an ephemeral worker: 504, the worker is killed (SIGKILL) and the app's whole
    # group with it, descendants included (a child, and an orphan the keeper reaped).
    pid_file = os.path.join(APPS, "c-slow", "spawned.pids")
    status, _ = get(port, "/c-slow/spawn?sleep=30")
    check(status == 504, f"timeout gives 504: {status}")
    pids = [int(p) for p in open(pid_file).read().split()] if os.path.exists(pid_file) else []
    check(len(pids) == 2, f"descendants were started: {pids}")
    check(wait_until(lambda: not any(alive(p) for p in pids), 10),
          f"the app's descendants die with the worker: {[p for p in pids if alive(p)]}")
    status, _ = get(port, "/c-slow/")
    check(status == 200, f"a new worker serves after the timeout: {status}")

    # A pooled worker's descendants: gone once the supervisor has stopped (checked in main).
    status, body = get(port, "/c-hello/spawn")
    check(status == 200, f"spawn in a pooled app: {status}")
    SPAWNED.extend(int(p) for p in body.split())

    # Start failures carry the reason.
    status, body = get(port, "/c-mute/")
    # The client gets the first line of the reason; the app's last output goes to the log only.
    check(status == 503 and b"did not accept connections" in body and b"not listening" not in body,
          f"an app that never listens fails its start with the reason: {status} {body[:300]!r}")
    status, body = get(port, "/c-missing/")
    check(status == 503 and b"not found" in body, f"a missing program fails its start: {status} {body[:300]!r}")

    relay(port)

    # A JavaScript app whose runtime is missing: the reason reaches the client, not only the log.
    status, body = get(port, "/js-hello/")
    check(status == 503 and b"need Bun" in body, f"a missing JS runtime is named in the reply: {status} {body[:300]!r}")

    # The examples, end to end.
    status, body = get(port, "/py-hello/")
    check(status == 200 and body == b"hello from python\n", f"examples/apps/py-hello: {status} {body!r}")
    status, body = get(port, "/py-wsgi/")
    check(status == 200 and body == b"hello from wsgi\n", f"examples/apps/py-wsgi: {status} {body[:300]!r}")
    status, body = request(port, "POST", "/py-wsgi/echo", body=b"z" * 100000)
    check(status == 200 and json.loads(body).get("bytes") == 100000, f"py-wsgi echo: {status} {body[:300]!r}")


def relay(port):
    # A chunked response with chunk extensions and a trailer, 300 kB (more than the ring's frames).
    status, body = get(port, "/c-hello/chunked?n=300")
    want = b"".join(bytes([97 + i % 26]) * 1000 for i in range(300))
    check(status == 200 and body == want, f"a chunked response arrives whole: {status} {len(body)}")

    # Many requests in flight over two kept-alive connections: they queue for a connection.
    results = []

    def one(path):
        try:
            results.append(get(port, path))
        except OSError as e:
            results.append((0, str(e).encode()))

    threads = [threading.Thread(target=one, args=("/c-few/sleep?s=0.1",)) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(len(results) == 30 and all(s == 200 and b == b"slept\n" for s, b in results),
          f"30 in flight on 2 connections: {[s for s, _ in results]}")
    results.clear()
    threads = [threading.Thread(target=one, args=("/c-few/conn",)) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conns = {b for s, b in results if s == 200}
    check(len(results) == 30 and all(s == 200 for s, _ in results) and 1 <= len(conns) <= 2,
          f"requests share at most 2 kept-alive connections: {len(conns)} seen, {[s for s, _ in results]}")

    # The app closes its kept-alive connection after answering: the next request retries on a new one.
    for i in range(5):
        s1, b1 = get(port, "/c-one/quietclose")
        s2, b2 = get(port, "/c-one/")
        check(s1 == 200 and s2 == 200 and b2 == b"hello from python\n",
              f"a connection the app closed is not used again (round {i}): {s1} {s2} {b2[:200]!r}")

    # Broken responses: 502 with the reason for that request, while another one goes on.
    results.clear()
    slow = threading.Thread(target=one, args=("/c-hello/sleep?s=1",))
    slow.start()
    time.sleep(0.2)
    status, body = get(port, "/c-hello/cuthead")
    check(status == 502 and b"closed the connection" in body, f"half a head gives 502: {status} {body[:300]!r}")
    status, body = get(port, "/c-hello/garbage")
    check(status == 502 and b"malformed" in body, f"a malformed response gives 502: {status} {body[:300]!r}")
    slow.join()
    check(results == [(200, b"slept\n")], f"a request in flight meanwhile is not affected: {results}")
    status, body = get(port, "/c-hello/")
    check(status == 200, f"the app serves after broken responses: {status}")

    # The app dies mid-response: that request is cut (no complete body), the other one in
    # flight gets 502, other apps go on, and a replacement serves.
    results.clear()
    inflight = threading.Thread(target=one, args=("/c-partial/sleep?s=5",))
    inflight.start()
    time.sleep(0.3)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", "/c-partial/partial")
        r = c.getresponse()
        got = (r.status, r.read())
    except (http.client.HTTPException, OSError) as e:
        got = (0, repr(e).encode())
    finally:
        c.close()
    check(got[0] != 200 or len(got[1]) != 1000, f"a response cut by the app's death is not complete: {got}")
    inflight.join()
    check(results and results[0][0] == 502, f"the other request in flight gets 502: {results}")
    status, _ = get(port, "/c-hello/")
    check(status == 200, "other apps go on after a crash mid-response")
    ok = wait_until(lambda: get(port, "/c-partial/")[0] == 200, 10)
    check(ok, "a replacement serves after a crash mid-response")


if __name__ == "__main__":
    main()
