#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The deploy API through the real supervisor (issue 13 items 1-3): uploads (tar.gz, zip,
# multipart) that then serve, every refused archive (built here with tarfile/zipfile), remove
# with a drain while a slow request is in flight, per-app reload that leaves other apps'
# workers alone, keys with roles, keys never in the logs, buntimectl deploy/reload/remove.
#
# Usage: deploy_api_test.py BUNTIME FIXTURE_APP_SO BUNTIMECTL
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile

BUNTIME, FIXTURE_SO, BUNTIMECTL = sys.argv[1:4]
KEYS = {'viewer': 'viewer-secret-7f3a9', 'deployer': 'deployer-secret-91bc2', 'admin': 'admin-secret-44d0e'}
TOKEN = 'token-secret-5e6f7'
MAX_UPLOAD = 4 * 1024 * 1024
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f'FAIL: {what}', file=sys.stderr)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Supervisor:
    def __init__(self, work, env_extra):
        self.port = free_port()
        self.log_path = os.path.join(work, f'supervisor-{self.port}.log')
        env = {k: v for k, v in os.environ.items() if not k.startswith('RUNTIME_') and k != 'PORT'}
        env.update({'PORT': str(self.port), 'RUNTIME_BIND': '127.0.0.1'})
        if os.environ.get('BUNTIME_SANITIZE'):  # ASan workers need their shadow memory: no cap
            env['RUNTIME_WORKER_MAX_MEMORY'] = '0'
        env.update(env_extra)
        self.log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen([BUNTIME], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f'supervisor exited {self.proc.returncode}: {self.text()}')
            try:
                if self.request('GET', '/_/api/health/live')[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit('supervisor did not start')

    def request(self, method, path, body=None, headers=None, key=None, timeout=60):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        headers = dict(headers or {})
        if key:
            headers['Authorization'] = f'Bearer {key}'
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, data

    def text(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def manifest(name, version, extra=''):
    return f'name: {name}\nversion: {version}\nentrypoint: app.so\nttl: 5m\n{extra}'.encode()


def tar_gz(files, top=None, special=None):
    """files: {path: bytes}; special: list of TarInfo builders run on the open archive."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(f'{top}/{path}' if top else path)
            info.size = len(data)
            info.mode = 0o755 if path.endswith('.so') else 0o644
            tar.addfile(info, io.BytesIO(data))
        for build in special or []:
            build(tar)
    return buf.getvalue()


def zip_bytes(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(path, data)
    return buf.getvalue()


def entry(name, kind, linkname=''):
    def build(tar):
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
            info.devmajor, info.devminor = 1, 3
        tar.addfile(info)
    return build


def app_files(name, version):
    return {'manifest.yaml': manifest(name, version), 'app.so': open(FIXTURE_SO, 'rb').read()}


def error_body(data):
    try:
        body = json.loads(data)
    except ValueError:
        return None
    ok = body.get('success') is False and body.get('code') and body.get('error') == body.get('code') and \
        isinstance(body.get('message'), str) and body['message']
    return body if ok else None


def upload(sup, data, key, content_type='application/gzip', query=''):
    return sup.request('POST', '/_/api/apps' + query, body=data, headers={'Content-Type': content_type}, key=key)


def multipart(data, filename='app.tar.gz'):
    boundary = 'xYzBoundary42'
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="comment"\r\n\r\nhello\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            'Content-Type: application/gzip\r\n\r\n').encode() + data + f'\r\n--{boundary}--\r\n'.encode()
    return body, f'multipart/form-data; boundary={boundary}'


def get_text(sup, path):
    status, data = sup.request('GET', path)
    return status, data.decode('utf-8', 'replace')


def wait_for(pred, limit=15):
    deadline = time.time() + limit
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def main():
    work = tempfile.mkdtemp(prefix='buntime-deploy-test-')
    apps = os.path.join(work, 'apps')
    os.mkdir(apps)
    keys_file = os.path.join(work, 'keys.yaml')
    with open(keys_file, 'w') as f:
        for role, key in KEYS.items():
            f.write(f'- name: ci-{role}\n  sha256: {hashlib.sha256(key.encode()).hexdigest()}\n  role: {role}\n')
    sup = Supervisor(work, {'RUNTIME_WORKER_DIRS': apps, 'RUNTIME_API_KEYS_FILE': keys_file,
                            'RUNTIME_ADMIN_TOKEN': TOKEN, 'RUNTIME_DEPLOY_MAX_UPLOAD': str(MAX_UPLOAD)})
    deployer, viewer, admin = KEYS['deployer'], KEYS['viewer'], KEYS['admin']
    try:
        # --- uploads that serve: tar.gz under one top directory, zip at the root, multipart.
        status, data = upload(sup, tar_gz(app_files('fix', '1.0.0'), top='fix-1.0.0'), deployer)
        check(status == 201, f'tar.gz upload: {status} {data[:300]}')
        body = json.loads(data) if status == 201 else {}
        check(body.get('name') == 'fix' and body.get('version') == '1.0.0', f'tar.gz reply {body}')
        check(os.path.isfile(os.path.join(apps, 'fix', '1.0.0', 'app.so')), 'installed as fix/1.0.0/')
        check(get_text(sup, '/fix/')[0] == 200, 'uploaded tar.gz app serves')
        status, data = upload(sup, zip_bytes(app_files('zipapp', '2.0.0')), deployer, 'application/zip')
        check(status == 201, f'zip upload: {status} {data[:300]}')
        check(get_text(sup, '/zipapp/')[0] == 200, 'uploaded zip app serves')
        body, ctype = multipart(tar_gz(app_files('mp', '1.0.0')))
        status, data = upload(sup, body, deployer, ctype)
        check(status == 201, f'multipart upload: {status} {data[:300]}')
        check(get_text(sup, '/mp/')[0] == 200, 'uploaded multipart app serves')
        # package.json gives name and version when the manifest has none.
        pkg = {'package.json': json.dumps({'name': 'pkgapp', 'version': '0.3.0'}).encode(),
               'manifest.yaml': b'entrypoint: app.so\nttl: 5m\n', 'app.so': open(FIXTURE_SO, 'rb').read()}
        status, data = upload(sup, tar_gz(pkg), deployer, 'application/octet-stream')
        check(status == 201 and json.loads(data).get('name') == 'pkgapp', f'package.json identity: {status} {data[:300]}')

        # --- the same name/version again: 409, then ?replace=1.
        status, data = upload(sup, tar_gz(app_files('fix', '1.0.0')), deployer)
        check(status == 409 and error_body(data), f'duplicate upload answers 409: {status} {data[:200]}')
        status, data = upload(sup, tar_gz(app_files('fix', '1.0.0')), deployer, query='?replace=1')
        check(status == 201 and json.loads(data).get('replaced') is True, f'replace=1: {status} {data[:200]}')
        check(get_text(sup, '/fix/')[0] == 200, 'replaced app serves')

        # --- refusals: each a 400 or 413 with the admin error shape, nothing installed.
        good = app_files('evil', '1.0.0')
        many = {f'f{i}': b'' for i in range(10_001)}
        many['manifest.yaml'] = manifest('many', '1.0.0')
        cases = [
            ('absolute path', tar_gz(good, special=[lambda t: t.addfile(tarfile.TarInfo('/tmp/evil-abs'))]), 400),
            ('dot-dot path', tar_gz(good, special=[lambda t: t.addfile(tarfile.TarInfo('../evil-dotdot'))]), 400),
            ('dot-dot inside', tar_gz(good, special=[lambda t: t.addfile(tarfile.TarInfo('a/../../evil2'))]), 400),
            ('symlink out', tar_gz(good, special=[entry('link', tarfile.SYMTYPE, '/etc/passwd')]), 400),
            ('symlink in', tar_gz(good, special=[entry('link', tarfile.SYMTYPE, 'app.so')]), 400),
            ('hard link out', tar_gz(good, special=[entry('hl', tarfile.LNKTYPE, '/etc/passwd')]), 400),
            ('hard link up', tar_gz(good, special=[entry('hl', tarfile.LNKTYPE, '../x')]), 400),
            ('char device', tar_gz(good, special=[entry('dev', tarfile.CHRTYPE)]), 400),
            ('block device', tar_gz(good, special=[entry('blk', tarfile.BLKTYPE)]), 400),
            ('fifo', tar_gz(good, special=[entry('fifo', tarfile.FIFOTYPE)]), 400),
            ('too many entries', tar_gz(many), 413),
            ('zip bomb', zip_bytes({'manifest.yaml': manifest('bomb', '1.0.0'), 'zeros': b'\0' * (40 << 20)}), 413),
            ('unknown format', b'just some text, not an archive', 400),
            ('truncated gzip', tar_gz(good)[:200], 400),
            ('invalid manifest', tar_gz({'manifest.yaml': manifest('bad', '1.0.0', 'timeout: abc\n')}), 400),
            ('no manifest', tar_gz({'readme.txt': b'hi'}), 400),
            ('unsafe name', tar_gz({'manifest.yaml': b'name: "..x"\nversion: 1.0.0\n'}), 400),
            ('name with slash', tar_gz({'package.json': b'{"name": "@scope/x", "version": "1.0.0"}'}), 400),
            ('version not semver', tar_gz({'manifest.yaml': b'name: okname\nversion: "../1"\n'}), 400),
        ]
        for what, data, want in cases:
            status, reply = upload(sup, data, deployer, 'application/octet-stream')
            check(status == want and error_body(reply) is not None, f'{what}: want {want}, got {status} {reply[:200]}')
        status, reply = upload(sup, os.urandom(MAX_UPLOAD + 1), deployer, 'application/gzip')
        check(status == 413 and error_body(reply) is not None, f'upload over the limit: {status} {reply[:200]}')
        for leftover in ('evil-abs', 'evil-dotdot', 'evil2'):
            check(not os.path.exists(os.path.join(work, leftover)) and not os.path.exists('/tmp/' + leftover),
                  f'{leftover} was not written')
        check(not [n for n in os.listdir(apps) if n.startswith('.buntime-deploy-')], 'no temporary directory left')
        for name in ('evil', 'many', 'bomb', 'bad', 'okname'):
            check(not os.path.exists(os.path.join(apps, name)), f'refused app {name} not installed')

        # --- roles.
        small = tar_gz(app_files('roles', '1.0.0'))
        check(upload(sup, small, None)[0] == 401, 'no key: 401')
        check(upload(sup, small, 'not-a-key')[0] == 401, 'unknown key: 401')
        status, data = upload(sup, small, viewer)
        check(status == 403 and error_body(data), f'viewer deploy: 403, got {status}')
        check(sup.request('GET', '/_/api/apps', key=viewer)[0] == 200, 'viewer reads apps')
        check(sup.request('DELETE', '/_/api/apps/fix', key=viewer)[0] == 403, 'viewer remove: 403')
        check(sup.request('POST', '/_/api/reload', key=deployer)[0] == 403, 'deployer global reload: 403')
        check(sup.request('POST', '/_/api/apps/fix/reload', key=deployer)[0] == 403, 'deployer app reload: 403')
        check(upload(sup, small, TOKEN)[0] == 201, 'RUNTIME_ADMIN_TOKEN is an admin key (deploys)')
        check(sup.request('POST', '/_/api/apps/nope/reload', key=admin)[0] == 404, 'reload of an unknown app: 404')

        # --- per-app reload: fix's workers are recycled, zipapp's keep their pids.
        fix_pid = get_text(sup, '/fix/pid')[1]
        zip_pid = get_text(sup, '/zipapp/pid')[1]
        status, data = sup.request('POST', '/_/api/apps/fix/reload', key=admin)
        check(status == 200 and json.loads(data).get('recycled', 0) >= 1, f'app reload: {status} {data[:200]}')
        check(wait_for(lambda: get_text(sup, '/fix/pid')[1] not in ('', fix_pid)), 'fix got a new worker')
        check(get_text(sup, '/zipapp/pid')[1] == zip_pid, 'zipapp kept its worker pid')

        # --- remove with a drain while a slow request is in flight: it completes 200.
        slow = {}

        def slow_request():
            slow['result'] = get_text(sup, '/fix/sleep?ms=1500')
        t = threading.Thread(target=slow_request)
        t.start()
        time.sleep(0.4)
        status, data = sup.request('DELETE', '/_/api/apps/fix', key=deployer)
        check(status == 200 and json.loads(data).get('draining', 0) >= 1, f'remove fix: {status} {data[:200]}')
        t.join(30)
        check(slow.get('result') == (200, 'slept'), f'the in-flight request completed: {slow.get("result")}')
        check(get_text(sup, '/fix/pid')[0] == 404, 'removed app answers 404')
        check(wait_for(lambda: not os.path.exists(os.path.join(apps, 'fix')) and
                       not [n for n in os.listdir(apps) if n.startswith('.buntime-trash-')]), 'fix files deleted')
        check(sup.request('DELETE', '/_/api/apps/fix', key=deployer)[0] == 404, 'remove again: 404')
        # One version, then force.
        status, data = sup.request('DELETE', '/_/api/apps/zipapp/2.0.0', key=deployer)
        check(status == 200 and json.loads(data).get('versions') == ['2.0.0'], f'remove a version: {status} {data}')
        check(get_text(sup, '/zipapp/')[0] == 404, 'removed version answers 404')
        get_text(sup, '/mp/pid')
        status, data = sup.request('DELETE', '/_/api/apps/mp?force=1', key=admin)
        check(status == 200 and json.loads(data).get('killed', 0) >= 1, f'forced remove: {status} {data}')

        # --- buntimectl deploy DIR / reload NAME / remove NAME@VERSION.
        src = os.path.join(work, 'ctlapp')
        os.mkdir(src)
        for path, data in app_files('ctlapp', '1.2.3').items():
            with open(os.path.join(src, path), 'wb') as f:
                f.write(data)
        ctl = [BUNTIMECTL, '--url', f'http://127.0.0.1:{sup.port}', '--token', deployer]
        r = subprocess.run(ctl + ['deploy', src], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and 'deployed ctlapp@1.2.3' in r.stdout, f'buntimectl deploy: {r.returncode} {r.stdout} {r.stderr}')
        check(get_text(sup, '/ctlapp/')[0] == 200, 'ctl-deployed app serves')
        archive = os.path.join(work, 'ctlzip.zip')
        with open(archive, 'wb') as f:
            f.write(zip_bytes(app_files('ctlzip', '1.0.0')))
        r = subprocess.run(ctl + ['deploy', archive], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f'buntimectl deploy ARCHIVE: {r.returncode} {r.stderr}')
        r = subprocess.run(ctl + ['reload', 'ctlapp'], capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and '403' in r.stderr, f'deployer cannot reload: {r.returncode} {r.stderr}')
        r = subprocess.run([BUNTIMECTL, '--url', f'http://127.0.0.1:{sup.port}', '--token', admin, 'reload', 'ctlapp'],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and 'reloaded ctlapp' in r.stdout, f'buntimectl reload NAME: {r.returncode} {r.stderr}')
        r = subprocess.run(ctl + ['remove', 'ctlapp@1.2.3'], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and 'removed ctlapp' in r.stdout, f'buntimectl remove: {r.returncode} {r.stderr}')
        r = subprocess.run(ctl + ['remove', 'ctlapp'], capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and '404' in r.stderr, f'buntimectl remove absent: {r.returncode} {r.stderr}')
    finally:
        sup.stop()
    log = sup.text()
    for secret in list(KEYS.values()) + [TOKEN]:
        check(secret not in log, 'a key appears in the log')
    check("key 'ci-deployer'" in log, 'the log names the key')
    check('"/_/api/apps' in log and '"DELETE"' in log, 'deploy and remove appear in the access log')

    # --- a bad keys file refuses start: exit 2, one clear line.
    for bad in ('- name: x\n  sha256: 1234\n  role: viewer\n', '- name: x\n  sha256: ' + '0' * 64 + '\n  role: root\n',
                'not: [a list', '{"name": "x"}'):
        with open(keys_file, 'w') as f:
            f.write(bad)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith('RUNTIME_')}
        env.update({'PORT': str(port), 'RUNTIME_WORKER_DIRS': apps, 'RUNTIME_API_KEYS_FILE': keys_file})
        r = subprocess.run([BUNTIME], env=env, capture_output=True, text=True, timeout=20)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        check(r.returncode == 2 and len(lines) == 1 and 'RUNTIME_API_KEYS_FILE' in lines[0],
              f'bad keys file {bad!r}: exit {r.returncode}, stderr {r.stderr!r}')
    if failures:
        print(f'{len(failures)} failure(s); supervisor log kept in {sup.log_path}', file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print('deploy_api: all checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
