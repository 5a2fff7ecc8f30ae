#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The include graph follows DESIGN.md's layers: each folder includes only the headers of
# the components it may depend on (base <- shm <- proto <- {worker, supervisor/ipc}, core
# on top). Usage: layers_test.py SOURCE_ROOT
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])

# Which component a project header belongs to, by its include path.
OWNER = [
    ('buntime/base/', 'base'), ('buntime/shm/', 'shm'), ('buntime/proto/', 'proto'),
    ('buntime/app.h', 'worker'), ('buntime/app/', 'worker'), ('buntime/worker/', 'worker'),
    ('buntime/router/', 'supervisor/router'), ('buntime/pool/', 'supervisor/pool'),
    ('buntime/http/', 'supervisor/http'), ('buntime/proc/', 'supervisor/proc'),
    ('buntime/ipc/', 'supervisor/ipc'), ('buntime/admin/', 'supervisor/admin'),
    ('buntime/deploy/', 'supervisor/deploy'),
    ('buntime/supervisor/', 'supervisor/core'), ('buntime/harness/', 'harness'), ('buntime/ctl/', 'ctl'),
    ('build_info.h', 'base'),
]
BELOW_CORE = {'base', 'shm', 'proto', 'supervisor/router', 'supervisor/pool', 'supervisor/http', 'supervisor/proc',
              'supervisor/ipc', 'supervisor/admin', 'supervisor/deploy'}
ALLOWED = {
    'base': set(),
    'shm': {'base'},
    'proto': {'base', 'shm'},
    'worker': {'base', 'shm', 'proto'},
    'js': {'base', 'shm', 'proto'},
    'supervisor/router': {'base'},
    'supervisor/pool': {'base'},
    'supervisor/http': {'base'},
    'supervisor/proc': {'base'},
    'supervisor/ipc': {'base', 'shm', 'proto'},
    'supervisor/admin': {'base', 'supervisor/pool'},
    'supervisor/deploy': {'base', 'supervisor/router'},
    'supervisor/core': BELOW_CORE,
    'harness': BELOW_CORE | {'supervisor/core'},
    'ctl': {'base', 'supervisor/admin'},
    'examples': {'worker'},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

failures = []
checked = 0
for folder, allowed in ALLOWED.items():
    base_dir = root / folder
    if not base_dir.is_dir():
        continue
    for path in sorted(base_dir.rglob('*')):
        if path.suffix not in ('.h', '.cpp') or 'bench' in path.relative_to(base_dir).parts:
            continue
        for include in INCLUDE.findall(path.read_text(encoding='utf-8', errors='replace')):
            owner = next((c for prefix, c in OWNER if include.startswith(prefix)), None)
            if owner is None or owner == folder:
                continue  # a local header of the folder, or not a project header
            checked += 1
            if owner not in allowed:
                failures.append(f'{path.relative_to(root)}: includes "{include}" ({owner}), '
                                f'but {folder} may depend on {sorted(allowed) or "nothing"}')

for f in failures:
    print(f'layers_test: FAIL: {f}', file=sys.stderr)
print(f'layers_test: {checked} cross-component includes checked, {len(failures)} out of layer')
sys.exit(1 if failures else 0)
