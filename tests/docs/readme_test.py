#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Runs README.md: its sh blocks against a supervisor started by the real scripts/run, its expected outputs, its files.
#
# Usage: readme_test.py README SOURCE_ROOT BUILD_ROOT
#
# The conventions (also written at the top of README.md):
#   - Every ```sh block runs, in document order, with `bash -euo pipefail`, from a scratch
#     directory that mirrors the repository root: each top-level entry is a symlink to the
#     source tree, except `build` (-> BUILD_ROOT), `scripts/` (symlinks, but `build` is a
#     stub: meson already built everything) and the paths the README itself creates.
#     PORT is the test supervisor's free port; ":8000" in a block becomes ":$PORT".
#   - <!-- expect --> before a ```text block: equals the stdout of the sh block just above.
#   - <!-- file: PATH --> before a block: its text is written to PATH in the scratch dir.
#   - <!-- supervisor --> before a ```console block: its `[VAR=value ...] scripts/run` line
#     (re)starts the supervisor: the previous one gets SIGTERM and must exit 0.
#   - Other blocks never run.
#   - Each `build/...` path in the first column of a README table must exist in BUILD_ROOT,
#     and the names listed in SURFACE (env vars, manifest keys, PERF_* variables, scenarios,
#     admin routes) must all appear in the README (between backquotes, routes inside a span).
# The supervisor's RUNTIME_STATE_DIR is a scratch directory (scripts/run would use
# build/state, which a `scripts/run` the developer has open would hold locked); RUNTIME_* and
# PORT inherited from the caller are dropped so the README's defaults hold.
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

MARKER = re.compile(r'^<!--\s*(expect|supervisor|file:\s*\S+)\s*-->\s*$')
FENCE = re.compile(r'^```(\S*)\s*$')


class Block:
    def __init__(self, lang, text, marker, line):
        self.lang, self.text, self.marker, self.line = lang, text, marker, line


def parse(readme):
    """Fenced blocks in order, each with the marker comment right above it (blank lines allowed)."""
    blocks, marker, lines = [], None, open(readme, encoding='utf-8').read().split('\n')
    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line)
        if m:
            marker = m.group(1)
        elif FENCE.match(line):
            lang, start, body = FENCE.match(line).group(1), i + 1, []
            i += 1
            while i < len(lines) and lines[i].rstrip() != '```':
                body.append(lines[i])
                i += 1
            if i == len(lines):
                fail(f'README.md:{start}: unterminated ``` block')
            blocks.append(Block(lang, '\n'.join(body) + '\n', marker, start))
            marker = None
        elif line.strip():
            marker = None
        i += 1
    return blocks


def fail(message):
    print(f'readme_test: FAIL: {message}', file=sys.stderr)
    raise SystemExit(1)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_scratch(source, build, created):
    scratch = tempfile.mkdtemp(prefix='buntime-readme-')
    skip = {'build', 'scripts', '.git', '.perf-fixtures', 'state'} | created
    for name in os.listdir(source):
        if name not in skip and not name.startswith('build-'):
            os.symlink(os.path.join(source, name), os.path.join(scratch, name))
    os.symlink(os.path.abspath(build), os.path.join(scratch, 'build'))
    os.mkdir(os.path.join(scratch, 'scripts'))
    for name in os.listdir(os.path.join(source, 'scripts')):
        if name != 'build':
            os.symlink(os.path.join(source, 'scripts', name), os.path.join(scratch, 'scripts', name))
    stub = os.path.join(scratch, 'scripts', 'build')
    with open(stub, 'w') as f:
        f.write('#!/usr/bin/env bash\n# readme_test: meson has built everything already.\nexit 0\n')
    os.chmod(stub, 0o755)
    os.mkdir(os.path.join(scratch, 'state'))
    return scratch


def base_env(port):
    env = {k: v for k, v in os.environ.items() if not k.startswith('RUNTIME_') and k != 'PORT'}
    env['PORT'] = str(port)
    if os.environ.get('BUNTIME_SANITIZE'):  # ASan workers need their shadow memory: no cap
        env['RUNTIME_WORKER_MAX_MEMORY'] = '0'
    return env


def sanitize_env(env):
    """A sanitizer build (scripts/test --sanitize), as in tests/js/integration_test.py: the
    JavaScript addon is instrumented and bun is not, so the supervisor (whose workers inherit
    it) preloads the compiler's ASan and UBSan runtimes, which must come first; leak checks
    are off there (the JavaScript engine keeps memory until exit)."""
    preload = []
    for lib in ('libasan.so', 'libubsan.so'):
        path = subprocess.run(['g++', f'-print-file-name={lib}'], capture_output=True, text=True).stdout.strip()
        if not os.path.isabs(path):
            fail(f'sanitizer run, but g++ does not know {lib}')
        preload.append(os.path.realpath(path))
    return {'LD_PRELOAD': ' '.join(preload + ([env['LD_PRELOAD']] if env.get('LD_PRELOAD') else [])),
            'ASAN_OPTIONS': ':'.join(filter(None, [env.get('ASAN_OPTIONS'), 'detect_leaks=0']))}


def sanitize_compiler(scratch):
    """A sanitizer build: build/'s libraries are instrumented, so a README block that links
    against them (the `app` executable) needs the sanitizer runtimes, as the build's own
    programs do. The sh blocks find this g++ first: the real one plus -fsanitize=…."""
    real = shutil.which('g++')
    if not real:
        fail('sanitizer run, but no g++ on PATH')
    tools = os.path.join(scratch, '.sanitize-bin')
    os.mkdir(tools)
    wrapper = os.path.join(tools, 'g++')
    with open(wrapper, 'w') as f:
        f.write(f'#!/bin/sh\nexec {shlex.quote(real)} "$@" '
                f'{shlex.quote("-fsanitize=" + os.environ["BUNTIME_SANITIZE"])}\n')
    os.chmod(wrapper, 0o755)
    return tools


def expand(value, env):
    return re.sub(r'\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?', lambda m: env.get(m.group(1), ''), value)


class Supervisor:
    def __init__(self, scratch, port):
        self.scratch, self.port, self.proc, self.log_path = scratch, port, None, os.path.join(scratch, 'supervisor.log')

    def log_tail(self, n=40):
        try:
            return ''.join(open(self.log_path, errors='replace').readlines()[-n:])
        except OSError:
            return ''

    def start(self, block):
        lines = [l for l in block.text.splitlines() if 'scripts/run' in l]
        if len(lines) != 1:
            fail(f'README.md:{block.line}: a supervisor block needs exactly one scripts/run line')
        tokens = shlex.split(lines[0].lstrip('$ ').strip())
        env = base_env(self.port)
        if os.environ.get('BUNTIME_SANITIZE'):  # JavaScript workers: bun loads the instrumented addon
            env.update(sanitize_env(env))
        env['PWD'] = self.scratch
        env['RUNTIME_STATE_DIR'] = os.path.join(self.scratch, 'state')
        while tokens and re.match(r'^[A-Za-z_][A-Za-z0-9_]*=', tokens[0]):
            name, value = tokens.pop(0).split('=', 1)
            env[name] = expand(value, env)
        if not tokens or tokens[0] != 'scripts/run':
            fail(f'README.md:{block.line}: expected [VAR=value ...] scripts/run, got {lines[0]!r}')
        self.stop()
        with open(self.log_path, 'ab') as log:
            self.proc = subprocess.Popen([os.path.join(self.scratch, 'scripts', 'run')] + tokens[1:], cwd=self.scratch,
                                         env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)
        deadline = time.monotonic() + 20
        url = f'http://127.0.0.1:{self.port}/_/api/health/ready'
        while True:
            if self.proc.poll() is not None:
                fail(f'README.md:{block.line}: `{lines[0].strip()}` exited with {self.proc.returncode} before serving\n'
                     f'--- supervisor log ---\n{self.log_tail()}')
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                fail(f'README.md:{block.line}: supervisor not ready on :{self.port} within 20 s\n{self.log_tail()}')
            time.sleep(0.05)
        print(f'readme_test: README.md:{block.line}: supervisor pid {self.proc.pid} ready on :{self.port}')

    def stop(self):
        """SIGTERM (scripts/run execs the supervisor, so the pid is its); must exit 0."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            fail(f'supervisor pid {proc.pid} did not stop within 30 s of SIGTERM\n{self.log_tail()}')
        if rc != 0:
            fail(f'supervisor pid {proc.pid} exited with {rc} after SIGTERM (expected 0)\n{self.log_tail()}')
        print(f'readme_test: supervisor pid {proc.pid} stopped with SIGTERM, exit 0')

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc = None


# Names the code defines that the README must document, each as `name`: (file, pattern).
SURFACE = [
    ('supervisor/core/include/buntime/supervisor/config.h', r'//\s*(PORT|RUNTIME_[A-Z_]+)\b'),
    ('supervisor/router/src/manifest.cpp', r'key == "([A-Za-z]+)"'),
    ('harness/include/buntime/harness/config.h', r'\b(PERF_[A-Z_]+)\b'),
    ('harness/src/config.cpp', r'\{"([a-z0-9-]+)", "(?:GET|POST)"'),
    ('supervisor/core/src/supervisor.cpp', r'path == "(/_/[^"]+)"'),
]


def check_surface(readme, source):
    text = open(readme, encoding='utf-8').read()
    missing = []
    for rel, pattern in SURFACE:
        path = os.path.join(source, rel)
        if not os.path.exists(path):
            continue
        for name in sorted(set(re.findall(pattern, open(path, encoding='utf-8').read()))):
            # Routes may sit inside longer spans (`GET /_/api/health`); other names stand alone.
            found = (re.search(re.escape(name) + r'(?![A-Za-z0-9_/-])', text) if name.startswith('/')
                     else f'`{name}`' in text)
            if not found:
                missing.append(f'{name} (from {rel})')
    if missing:
        fail('README.md does not document: ' + ', '.join(missing))


def run(readme, source, build):
    blocks = parse(readme)
    created = {b.marker.split(':', 1)[1].strip().split('/')[0] for b in blocks if b.marker and b.marker.startswith('file:')}
    # The table of built programs ("| `build/...` | ...") must name files that exist.
    for n, line in enumerate(open(readme, encoding='utf-8'), 1):
        m = re.match(r'^\| `(build/[^`]+)`', line)
        if m and not os.path.exists(os.path.join(build, m.group(1)[len('build/'):])):
            fail(f'README.md:{n}: {m.group(1)} does not exist in {build}')
    check_surface(readme, source)
    scratch = make_scratch(source, build, created)
    port = free_port()
    sup = Supervisor(scratch, port)
    sh_env = base_env(port)
    if os.environ.get('BUNTIME_SANITIZE'):
        sh_env['PATH'] = sanitize_compiler(scratch) + os.pathsep + sh_env.get('PATH', os.defpath)
    ran, checked, ok = 0, 0, False
    try:
        last_sh, prev = None, None
        for b in blocks:
            if b.marker and b.marker.startswith('file:'):
                path = b.marker.split(':', 1)[1].strip()
                dest = os.path.join(scratch, path)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with open(dest, 'w') as f:
                    f.write(b.text)
            elif b.marker == 'supervisor':
                sup.start(b)
            elif b.marker == 'expect':
                if last_sh is None or last_sh[0] is not prev:
                    fail(f'README.md:{b.line}: an expect block must follow a sh block')
                want = [l.rstrip() for l in b.text.rstrip().splitlines()]
                got = [l.rstrip() for l in last_sh[1].rstrip().splitlines()]
                if want != got:
                    fail(f'README.md:{b.line}: output differs from the block at line {last_sh[0].line}\n'
                         f'--- block ---\n{last_sh[0].text}--- expected ---\n' + '\n'.join(want) +
                         '\n--- got ---\n' + '\n'.join(got))
                checked += 1
            if b.lang == 'sh':
                if sup.proc is None:
                    fail(f'README.md:{b.line}: sh block before any supervisor block')
                text = b.text.replace(':8000', f':{port}')
                try:
                    r = subprocess.run(['bash', '-euo', 'pipefail', '-c', text], cwd=scratch, env=sh_env,
                                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
                except subprocess.TimeoutExpired:
                    fail(f'README.md:{b.line}: block did not finish within 60 s\n{b.text}')
                if r.returncode != 0:
                    fail(f'README.md:{b.line}: block exited with {r.returncode}\n--- block ---\n{b.text}'
                         f'--- stdout ---\n{r.stdout}--- stderr ---\n{r.stderr}--- supervisor log ---\n{sup.log_tail(15)}')
                print(f'readme_test: README.md:{b.line}: ok')
                last_sh = (b, r.stdout)
                ran += 1
            prev = b
        if sup.proc is None:
            fail('README.md never starts a supervisor (no supervisor block)')
        sup.stop()
        if ran == 0 or checked == 0:
            fail(f'nothing tested: {ran} sh blocks, {checked} expected outputs')
        print(f'readme_test: {ran} sh blocks ran, {checked} outputs matched')
        ok = True
    finally:
        sup.kill()
        if ok:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f'readme_test: scratch directory kept: {scratch}', file=sys.stderr)


def main():
    if len(sys.argv) != 4:
        print('usage: readme_test.py README SOURCE_ROOT BUILD_ROOT', file=sys.stderr)
        return 2
    run(*sys.argv[1:])
    return 0


if __name__ == '__main__':
    sys.exit(main())
