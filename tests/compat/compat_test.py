#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks README's "Migrating from the Bun-based Buntime" table: every `same` row (and every
# `extended` row that has a check) against a live supervisor and a live buntime-perf run, and
# the Bun-based answer shapes against tests/golden/admin/bun_*.json (key sets and JSON types).
#
# Usage: compat_test.py README BUNTIME BUNTIME_PERF FIXTURE_APP_SO GOLDEN_DIR
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

README, BUNTIME, PERF, FIXTURE_SO, GOLDEN = (os.path.abspath(a) for a in sys.argv[1:6])
FAILURES = []


def fail(message):
    FAILURES.append(message)
    print(f'compat_test: FAIL: {message}', file=sys.stderr)


def check(cond, message):
    if not cond:
        raise AssertionError(message)


# --- the table ------------------------------------------------------------------------------

def table_rows():
    text = open(README, encoding='utf-8').read()
    start = text.index('## Migrating from the Bun-based Buntime')
    end = text.find('\n## ', start + 10)
    rows, in_table = [], False
    for line in text[start:end].splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')] if line.startswith('|') else None
        if cells and cells[:3] == ['surface', 'name', 'status']:
            in_table = True
            continue
        if not in_table or not cells or set(cells[0]) <= {'-'}:
            continue
        if len(cells) < 4:
            raise SystemExit(f'compat_test: malformed row {line!r}')
        names = re.findall(r'`([^`]+)`', cells[1]) or [cells[1]]
        rows.append((cells[0], names, cells[2]))
    if not rows:
        raise SystemExit('compat_test: no compatibility table found in README.md')
    for surface, names, status in rows:
        if status not in ('same', 'extended', 'different'):
            raise SystemExit(f'compat_test: row {names}: status {status!r} is not same, extended or different')
    return rows


# --- a live supervisor ----------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Live:
    def __init__(self, scratch):
        self.scratch = scratch
        self.apps = os.path.join(scratch, 'apps')
        self.port = free_port()
        self.log = os.path.join(scratch, 'supervisor.log')
        self.proc = None

    def env(self, extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('RUNTIME_') and k not in ('PORT', 'NODE_ENV')}
        env.update({'PORT': str(self.port), 'RUNTIME_WORKER_DIRS': self.apps, 'RUNTIME_ACCESS_LOG': 'off',
                    'RUNTIME_STATE_DIR': os.path.join(self.scratch, 'state'), 'RUNTIME_LOG_LEVEL': 'info'})
        if os.environ.get('BUNTIME_SANITIZE'):  # ASan workers need their shadow memory: no cap
            env['RUNTIME_WORKER_MAX_MEMORY'] = '0'
        env.update(extra)
        return env

    def start(self, extra):
        os.makedirs(os.path.join(self.scratch, 'state'), exist_ok=True)
        with open(self.log, 'ab') as log:
            self.proc = subprocess.Popen([BUNTIME], env=self.env(extra), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f'compat_test: supervisor exited {self.proc.returncode}\n{self.log_text()}')
            try:
                if self.get('/_/api/health/ready')[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit(f'compat_test: supervisor not ready\n{self.log_text()}')

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log_text(self):
        try:
            return open(self.log, errors='replace').read()
        except OSError:
            return ''

    def get(self, path):
        try:
            with urllib.request.urlopen(f'http://127.0.0.1:{self.port}{path}', timeout=10) as r:
                return r.status, dict(r.headers), r.read().decode('utf-8', 'replace')
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode('utf-8', 'replace')

    def ok(self, path):
        status, _, body = self.get(path)
        check(status == 200, f'GET {path}: {status} {body[:200]}')
        return body

    def json(self, path, status=200):
        code, _, body = self.get(path)
        check(code == status, f'GET {path}: {code} (expected {status}) {body[:200]}')
        return json.loads(body)

    def app_config(self, name):
        for row in self.json('/_/api/apps?format=native')['apps']:
            if row['name'] == name and row.get('config') is not None:
                return row['config']
        raise AssertionError(f'no loaded app {name} in /_/api/apps')


def make_app(apps, dirname, manifest=None, manifest_name='manifest.yaml'):
    d = os.path.join(apps, dirname)
    os.makedirs(d, exist_ok=True)
    shutil.copy(FIXTURE_SO, os.path.join(d, 'app.so'))
    if manifest is not None:
        with open(os.path.join(d, manifest_name), 'w') as f:
            f.write(manifest)
    return d


# --- golden shapes --------------------------------------------------------------------------

def kind(v):
    if isinstance(v, bool):
        return 'boolean'
    if isinstance(v, (int, float)):
        return 'number'
    return type(v).__name__


def golden(name):
    with open(os.path.join(GOLDEN, name + '.json')) as f:
        return json.load(f)


def has_shape(gold, live, where, exact):
    """Every key of `gold` in `live` with the same JSON type (exact: no other keys)."""
    check(kind(gold) == kind(live), f'{where}: {kind(live)}, golden has {kind(gold)}')
    if isinstance(gold, dict):
        for k, v in gold.items():
            check(k in live, f'{where}.{k}: missing')
            has_shape(v, live[k], f'{where}.{k}', exact)
        if exact:
            extra = set(live) - set(gold)
            check(not extra, f'{where}: keys not in the golden file: {sorted(extra)}')
    if isinstance(gold, list) and gold:
        for i, item in enumerate(live):
            has_shape(gold[0], item, f'{where}[{i}]', exact)


# --- the checks, by name --------------------------------------------------------------------

UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')


def live_checks(s):
    apps = s.apps
    c = {}

    def env_of(app, name):
        return s.ok(f'/{app}/env?name={name}')

    c['PORT'] = lambda: check(s.get('/_/api/health')[0] == 200, 'no answer on PORT')

    def worker_dirs():
        s.ok('/fx/pid')
        env = s.env({'RUNTIME_WORKER_DIRS': '', 'PORT': str(free_port()),
                     'RUNTIME_STATE_DIR': os.path.join(s.scratch, 'state-empty')})
        r = subprocess.run([BUNTIME], env=env, capture_output=True, text=True, timeout=20)
        check(r.returncode != 0, 'an empty RUNTIME_WORKER_DIRS started a supervisor')
        check('RUNTIME_WORKER_DIRS' in r.stderr, f'no reason given: {r.stderr[-300:]}')
    c['RUNTIME_WORKER_DIRS'] = worker_dirs
    c['RUNTIME_EPHEMERAL_CONCURRENCY'] = lambda: check(
        s.json('/_/api/metrics')['ephemeralConcurrency'] == 3, 'RUNTIME_EPHEMERAL_CONCURRENCY=3 not applied')
    c['RUNTIME_EPHEMERAL_QUEUE_LIMIT'] = lambda: check(
        s.json('/_/api/metrics')['ephemeralQueueLimit'] == 100, 'RUNTIME_EPHEMERAL_QUEUE_LIMIT=0 was not ignored')

    def config_cache():
        with open(os.path.join(apps, 'fx@1.0.0', 'manifest.yaml'), 'a') as f:
            f.write('maxRequests: 77\n')
        check(s.app_config('fx')['maxRequests'] == 77, 'a manifest change was not seen with the cache disabled')
    c['RUNTIME_WORKER_CONFIG_CACHE_TTL_MS'] = config_cache

    def resolver_cache():
        s.ok('/fx/pid')
        make_app(apps, 'fx@1.1.0', 'ttl: 1m\n')
        check(env_of('fx', 'APP_DIR').endswith('fx@1.1.0'), 'a new version was not seen with the cache disabled')
    c['RUNTIME_WORKER_RESOLVER_CACHE_TTL_MS'] = resolver_cache

    app_dir = os.path.join(apps, 'wv@1.0.0')
    c['APP_DIR'] = lambda: check(env_of('wv', 'APP_DIR') == app_dir, 'APP_DIR')
    c['ENTRYPOINT'] = lambda: check(env_of('wv', 'ENTRYPOINT') == os.path.join(app_dir, 'app.so'), 'ENTRYPOINT')
    c['WORKER_ID'] = lambda: check(UUID.match(env_of('wv', 'WORKER_ID')), 'WORKER_ID is not a UUID')
    c['RUNTIME_API_URL'] = lambda: check(env_of('wv', 'RUNTIME_API_URL') == f'http://127.0.0.1:{s.port}',
                                         'RUNTIME_API_URL')
    c['worker:RUNTIME_WORKER_DIRS'] = lambda: check(env_of('wv', 'RUNTIME_WORKER_DIRS') == apps, 'RUNTIME_WORKER_DIRS')
    c['worker:NODE_ENV'] = lambda: check(env_of('wv', 'NODE_ENV') == 'development', 'NODE_ENV')

    c['manifest.yml'] = lambda: check(env_of('yml', 'FROM') == 'yml', 'manifest.yml not read')
    c['env'] = lambda: check(env_of('keys', 'A') == 'x', 'manifest env not passed')

    def defaults(key, value):
        return lambda: check(s.app_config('fx')[key] == value, f'default {key} != {value}')

    c['timeout'] = defaults('timeoutMs', 30000)
    c['ttl'] = lambda: check(s.app_config('nomani')['ttlMs'] == 0, 'default ttl is not 0')
    c['idleTimeout'] = defaults('idleTimeoutMs', 60000)
    c['maxBodySize'] = defaults('maxBodySize', 10 * 1024 * 1024)
    c['injectBase'] = defaults('injectBase', False)
    c['envPrefix'] = lambda: check(s.app_config('keys')['envPrefix'] == ['X_'], 'envPrefix')
    c['visibility'] = lambda: check(s.app_config('keys')['visibility'] == 'internal', 'visibility')

    def version_key():
        s.ok('/keys/pid')
        check(s.app_config('keys')['version'] == '', 'a non-semver version was kept')
    c['version'] = version_key
    c['"30"'] = lambda: check(s.app_config('keys')['timeoutMs'] == 45000, 'quoted "45000" is not milliseconds')
    c['1y'] = lambda: check(s.app_config('keys')['ttlMs'] == 31557600000, '1y is not 365.25 days')
    c['"1"'] = lambda: check(s.app_config('keys')['injectBase'] is True, '"1" is not true')
    c['"0"'] = lambda: check(s.app_config('keys')['lowMemory'] is False, '"0" is not false')

    c['/<app>/…'] = lambda: (check(env_of('tag', 'MARK') == 'latest', 'bare name skipped the latest tag'),
                             check(env_of('pre', 'MARK') == 'one', 'bare name did not take the highest release'))
    c['/<app>@<range>/…'] = lambda: check(env_of('pre@%5E1.0.0', 'MARK') == 'beta',
                                          '^1.0.0 did not take 1.5.0-beta.1 (includePrerelease)')
    c['latest'] = lambda: (check(env_of('tag@latest', 'MARK') == 'latest', '@latest is not the tag dir'),
                           check(env_of('tag@1', 'MARK') == 'one', '@1 took the tag dir'))
    c['versioned directory without manifest'] = lambda: s.ok('/nomani/pid')

    def bad_range():
        body = s.json('/fx@not-a-range!/', 404)
        check(body['code'] == 'APP_NOT_FOUND' and 'invalid version range' in body['message'], f'{body}')
    c['bad range'] = bad_range

    def reserved():
        for path in ('/_/nope', '/_', '/.well-known/other'):
            body = s.json(path, 404)
            check(body.get('success') is False, f'{path}: {body}')
    c['reserved paths'] = reserved

    def headers():
        status, h, body = s.get('/fx/headers')
        check(status == 200 and 'base=/fx' in body, f'x-base: {body[:200]}')
        check(any(k.lower() == 'x-request-id' for k in h), 'no x-request-id')
    c['x-base'] = headers
    c['x-request-id'] = headers

    def well_known():
        live = s.json('/.well-known/buntime')
        has_shape(golden('bun_well_known'), live, 'well-known', exact=True)
        check(live['api'] == '/_/api', f'api {live["api"]}')
    c['GET /.well-known/buntime'] = well_known
    c['GET <api>/health'] = lambda: has_shape(golden('bun_health'), s.json('/_/api/health'), 'health', False)
    c['GET <api>/health/ready'] = lambda: has_shape(golden('bun_health_ready'), s.json('/_/api/health/ready'),
                                                    'ready', False)
    c['GET <api>/health/live'] = lambda: has_shape(golden('bun_health_live'), s.json('/_/api/health/live'),
                                                   'live', False)

    def bun_apps():
        live = s.json('/_/api/apps?format=bun')
        check(isinstance(live, list) and live, 'not a non-empty array')
        has_shape(golden('bun_apps'), live, 'apps', exact=True)
        by = {a['name']: a for a in live}
        check(by['tag']['versions'][0] == 'latest', f'tag versions {by["tag"]["versions"]}')
        check(by['fx']['path'] == apps, f'flat path {by["fx"]["path"]}')
    c['GET <api>/apps?format=bun'] = bun_apps

    def error_body():
        live = s.json('/nope/', 404)
        has_shape(golden('bun_error'), live, 'error', exact=False)
        check(live['success'] is False and live['code'] == 'APP_NOT_FOUND' and live['error'] == live['code'], str(live))
    c['error bodies'] = error_body

    page = {}

    def metric(name):
        def run():
            if 'text' not in page:
                page['text'] = s.ok('/_/metrics')
            check(f'# TYPE {name} gauge\n' in page['text'], f'no gauge {name}')
            check(re.search(rf'^{name} [0-9.e+-]+$', page['text'], re.M), f'no sample of {name}')
        return run

    for name in ('active_workers', 'avg_response_time_ms', 'ephemeral_concurrency', 'ephemeral_queue_depth',
                 'ephemeral_queue_limit', 'evictions', 'hit_rate', 'hits', 'misses', 'total_requests',
                 'total_workers_created', 'total_workers_failed', 'total_workers_retired', 'uptime_ms',
                 'requests_per_second', 'memory_usage_m_b', 'requests_per_second_lifetime'):
        c['buntime_' + name] = metric('buntime_' + name)
    return c


def setup_apps(apps):
    os.makedirs(apps)
    make_app(apps, 'fx@1.0.0', 'ttl: 1m\n')
    make_app(apps, 'wv@1.0.0', 'ttl: 1m\n')
    make_app(apps, 'yml@1.0.0', 'ttl: 1m\nenv:\n  FROM: yml\n', 'manifest.yml')
    make_app(apps, 'nomani@1.0.0')
    make_app(apps, 'tag@1.0.0', 'ttl: 1m\nenv:\n  MARK: one\n')
    make_app(os.path.join(apps, 'tag'), 'latest', 'ttl: 1m\nenv:\n  MARK: latest\n')
    make_app(apps, 'pre@1.0.0', 'ttl: 1m\nenv:\n  MARK: one\n')
    make_app(apps, 'pre@1.5.0-beta.1', 'ttl: 1m\nenv:\n  MARK: beta\n')
    make_app(apps, 'keys@1.0.0', 'version: not-semver\ntimeout: "45000"\nttl: 1y\ninjectBase: "1"\n'
                                 'lowMemory: "0"\nenvPrefix: [X_]\nvisibility: internal\nenv:\n  A: x\n')


# --- the perf report ------------------------------------------------------------------------

def perf_checks(scratch):
    fixtures = os.path.join(scratch, 'fixtures')
    out_file = os.path.join(scratch, 'perf-results.json')
    gate_file = os.path.join(scratch, 'gate.json')
    with open(gate_file, 'w') as f:
        json.dump({'warm-noop': {'minRps': 1e12}}, f)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith('PERF_') and not k.startswith('RUNTIME_')}
    env.update({'PERF_MODE': 'direct', 'PERF_DURATION_MS': '300', 'PERF_WARMUP_MS': '50', 'PERF_CONCURRENCY': '2',
                'PERF_POOL_SIZE': '7', 'PERF_CLIENT_TIMEOUT_MS': '5000', 'PERF_SCENARIOS': 'warm-noop,cold-brew',
                'PERF_FIXTURE_DIR': fixtures, 'PERF_KEEP_FIXTURES': '1', 'PERF_OUTPUT_FILE': out_file,
                'PERF_GATE_FILE': gate_file, 'PERF_JSON': '1', 'PERF_PORT': str(port)})
    if os.environ.get('BUNTIME_SANITIZE'):  # the harness's embedded supervisor reads it: no cap for ASan workers
        env['RUNTIME_WORKER_MAX_MEMORY'] = '0'
    r = subprocess.run([PERF], env=env, cwd=scratch, capture_output=True, text=True, timeout=120)
    state = {}

    def report():
        if 'report' not in state:
            check(r.returncode == 1, f'exit {r.returncode} with an impossible minRps gate\n{r.stderr[-800:]}')
            with open(out_file) as f:
                state['report'] = json.load(f)
        return state['report']

    rep = lambda: report()  # noqa: E731
    res = lambda: report()['results'][0]  # noqa: E731
    c = {}
    c['PERF_MODE'] = lambda: check(rep()['config']['mode'] == 'direct', 'mode')
    c['PERF_DURATION_MS'] = lambda: check(rep()['config']['durationMs'] == 300, 'durationMs')
    c['PERF_WARMUP_MS'] = lambda: check(rep()['config']['warmupMs'] == 50, 'warmupMs')
    c['PERF_CONCURRENCY'] = lambda: check(rep()['config']['concurrency'] == 2 and res()['concurrency'] == 2,
                                          'concurrency')
    c['PERF_POOL_SIZE'] = lambda: check(rep()['config']['poolSize'] == 7, 'poolSize')
    c['PERF_CLIENT_TIMEOUT_MS'] = lambda: check(rep()['config']['clientTimeoutMs'] == 5000, 'clientTimeoutMs')
    c['PERF_SCENARIOS'] = lambda: (check(rep()['config']['scenarioFilter'] == ['warm-noop'], 'scenarioFilter'),
                                   check('cold-brew' in r.stderr and 'warning' in r.stderr, 'no warning'))
    c['PERF_FIXTURE_DIR'] = lambda: (check(rep()['config']['fixtureDir'] == fixtures, 'fixtureDir'),
                                     check(os.path.isdir(os.path.join(fixtures, 'noop')), 'no fixtures written'))
    c['PERF_KEEP_FIXTURES'] = lambda: check(rep()['config']['keepFixtures'] is True and os.path.isdir(fixtures),
                                            'keepFixtures')
    c['PERF_OUTPUT_FILE'] = lambda: check(rep()['config']['outputFile'] == out_file, 'outputFile')
    c['PERF_GATE_FILE'] = lambda: check(rep()['config']['gateFile'] == gate_file, 'gateFile')
    c['PERF_JSON'] = lambda: check(json.loads(r.stdout) == rep(), 'stdout is not the report')
    c['PERF_PORT'] = lambda: check(rep()['config']['port'] == port, 'port')

    def violations():
        v = rep()['gateViolations']
        check(isinstance(v, list) and len(v) == 1, f'gateViolations {v}')
        check(set(v[0]) == {'scenario', 'metric', 'actual', 'expected'} and v[0]['metric'] == 'minRps', str(v[0]))
    c['gateViolations'] = violations
    c['poolMetrics'] = lambda: check(len(rep()['poolMetrics']) == 16 and all(
        isinstance(x, (int, float)) for x in rep()['poolMetrics'].values()), 'poolMetrics')
    c['config'] = lambda: check(all(k in rep()['config'] for k in (
        'durationMs', 'warmupMs', 'concurrency', 'poolSize', 'clientTimeoutMs', 'mode', 'fixtureDir',
        'keepFixtures', 'scenarioFilter')), 'config keys')
    c['results[].name'] = lambda: check(res()['name'] == 'warm-noop', 'name')
    for key in ('requests', 'rps', 'errors', 'p50Ms', 'p95Ms', 'p99Ms', 'avgMs', 'maxMs', 'minMs', 'concurrency'):
        c[f'results[].{key}'] = (lambda k: lambda: check(isinstance(res()[k], (int, float)), k))(key)
    c['results[].statusCounts'] = lambda: check(res()['statusCounts'].get('200', 0) == res()['requests'],
                                                f'statusCounts {res()["statusCounts"]}')
    return c


def main():
    rows = table_rows()
    scratch = tempfile.mkdtemp(prefix='buntime-compat-')
    live = Live(scratch)
    try:
        setup_apps(live.apps)
        live.start({'RUNTIME_EPHEMERAL_CONCURRENCY': '3', 'RUNTIME_EPHEMERAL_QUEUE_LIMIT': '0',
                    'RUNTIME_WORKER_CONFIG_CACHE_TTL_MS': '0', 'RUNTIME_WORKER_RESOLVER_CACHE_TTL_MS': '0'})
        checks = live_checks(live)
        checks.update(perf_checks(scratch))
        done = same = 0
        for surface, names, status in rows:
            for name in names:
                key = name
                if surface == 'worker variable' and name in ('RUNTIME_WORKER_DIRS', 'NODE_ENV'):
                    key = 'worker:' + name
                if surface == 'manifest value':
                    key = name.split(' ')[-1] if name.startswith(('duration', 'boolean')) else name
                fn = checks.get(key)
                if fn is None:
                    if status == 'same':
                        fail(f'row "{surface} {name}" is `same` but has no live check')
                    continue
                try:
                    fn()
                    done += 1
                    same += status == 'same'
                except (AssertionError, OSError, KeyError, ValueError, IndexError, TypeError) as e:
                    fail(f'row "{surface} {name}" ({status}): {e}')
        print(f'compat_test: {done} checks passed ({same} same rows), {len(FAILURES)} failed')
    finally:
        live.stop()
        if FAILURES:
            print('--- supervisor log (tail) ---\n' + live.log_text()[-3000:], file=sys.stderr)
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if FAILURES else 0


if __name__ == '__main__':
    sys.exit(main())
