#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks deploy/k8s and deploy/container for the properties the deployment story promises.
"""Usage: check_manifests.py REPO_ROOT

Parses every manifest under deploy/k8s (python3 yaml), follows each kustomization's
resources, and checks what the README and issue promise: a 3-replica Deployment with
readiness on /_/api/health/ready and liveness on /_/api/health/live, preStop plus a grace
period covering the ConfigMap's drain timeouts, requests and limits, a non-root read-only
container without capabilities, the Service/PDB/HPA selecting the pods, Prometheus
annotations, the state dir on tmpfs, apps from a ReadWriteMany claim (base) or from an
init container (overlays/apps-image), and the Containerfile's non-root user, volume,
STOPSIGNAL and HEALTHCHECK. When `podman kube play` has --dry-run, the Deployment is also
given to it. Exit 0 ok, 1 failures, 77 (meson: skipped) without python3 yaml.
"""
import os
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("SKIP: python3 yaml (PyYAML) is not installed; apt-get install python3-yaml")
    sys.exit(77)

root = sys.argv[1] if len(sys.argv) > 1 else os.getcwd()
k8s = os.path.join(root, "deploy", "k8s")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)
    return cond


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def kustomize(directory, seen=None):
    """The objects of a kustomization: its resources (files or directories), recursively."""
    seen = set() if seen is None else seen
    kfile = os.path.join(directory, "kustomization.yaml")
    if not check(os.path.isfile(kfile), f"{os.path.relpath(kfile, root)} exists"):
        return [], {}
    k = load_docs(kfile)[0]
    check(k.get("kind") == "Kustomization", f"{os.path.relpath(kfile, root)} is a Kustomization")
    objects = []
    for res in k.get("resources", []):
        path = os.path.normpath(os.path.join(directory, res))
        if path in seen:
            check(False, f"{res} included twice")
            continue
        seen.add(path)
        if os.path.isdir(path):
            objects += kustomize(path, seen)[0]
        elif check(os.path.isfile(path), f"resource {os.path.relpath(path, root)} exists"):
            objects += load_docs(path)
    return objects, k


def by_kind(objects, kind):
    return [o for o in objects if o.get("kind") == kind]


def env_map(objects):
    cms = by_kind(objects, "ConfigMap")
    return cms[0].get("data", {}) if cms else {}


def check_common(objects, label):
    for o in objects:
        check(isinstance(o.get("apiVersion"), str) and isinstance(o.get("kind"), str)
              and isinstance(o.get("metadata", {}).get("name"), str),
              f"{label}: {o.get('kind')} {o.get('metadata', {}).get('name')} has apiVersion, kind, metadata.name")
    deps = by_kind(objects, "Deployment")
    if not check(len(deps) == 1, f"{label}: exactly one Deployment"):
        return None
    d = deps[0]
    spec = d["spec"]
    tpl = spec["template"]
    pod = tpl["spec"]
    labels = tpl["metadata"].get("labels", {})
    check(spec.get("replicas") == 3, f"{label}: 3 replicas")
    sel = spec["selector"]["matchLabels"]
    check(all(labels.get(k) == v for k, v in sel.items()), f"{label}: selector matches the pod labels")
    ann = tpl["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/path") == "/_/metrics"
          and str(ann.get("prometheus.io/port")) == "8000", f"{label}: Prometheus scrape annotations")

    cs = pod["containers"]
    check(len(cs) == 1, f"{label}: one container")
    c = cs[0]
    port_names = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    check(port_names.get("http") == 8000, f"{label}: container port http=8000")
    rp = c.get("readinessProbe", {}).get("httpGet", {})
    lp = c.get("livenessProbe", {}).get("httpGet", {})
    check(rp.get("path") == "/_/api/health/ready", f"{label}: readiness probe on /_/api/health/ready")
    check(lp.get("path") == "/_/api/health/live", f"{label}: liveness probe on /_/api/health/live")
    res = c.get("resources", {})
    check(all(k in res.get("requests", {}) for k in ("cpu", "memory"))
          and all(k in res.get("limits", {}) for k in ("cpu", "memory")), f"{label}: cpu/memory requests and limits")

    psc = pod.get("securityContext", {})
    csc = c.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True or csc.get("runAsNonRoot") is True, f"{label}: runAsNonRoot")
    uid = csc.get("runAsUser", psc.get("runAsUser"))
    check(isinstance(uid, int) and uid != 0, f"{label}: a non-zero runAsUser")
    check(csc.get("readOnlyRootFilesystem") is True, f"{label}: read-only root filesystem")
    check(csc.get("allowPrivilegeEscalation") is False, f"{label}: no privilege escalation")
    check(csc.get("capabilities", {}).get("drop") == ["ALL"], f"{label}: capabilities drop ALL")

    # Drain: preStop + RUNTIME_SHUTDOWN_TIMEOUT_MS + RUNTIME_TERMINATE_GRACE_MS must fit the grace.
    env = env_map(objects)
    pre = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    pre_s = int(pre[-1]) if pre and pre[0].endswith("sleep") and str(pre[-1]).isdigit() else None
    check(pre_s is not None and pre_s > 0, f"{label}: preStop sleeps before SIGTERM")
    grace = pod.get("terminationGracePeriodSeconds")
    try:
        drain_s = (int(env["RUNTIME_SHUTDOWN_TIMEOUT_MS"]) + int(env["RUNTIME_TERMINATE_GRACE_MS"]) + 999) // 1000
    except (KeyError, ValueError):
        drain_s = None
    check(drain_s is not None, f"{label}: ConfigMap sets RUNTIME_SHUTDOWN_TIMEOUT_MS and RUNTIME_TERMINATE_GRACE_MS")
    if drain_s is not None and pre_s is not None:
        check(isinstance(grace, int) and pre_s + drain_s < grace <= pre_s + drain_s + 15,
              f"{label}: terminationGracePeriodSeconds {grace} covers preStop {pre_s}s + drain {drain_s}s (margin <= 15s)")
    for var, want in (("PORT", "8000"), ("RUNTIME_WORKER_DIRS", "/srv/buntime/apps"),
                      ("RUNTIME_STATE_DIR", "/var/lib/buntime")):
        check(str(env.get(var)) == want, f"{label}: ConfigMap {var}={want}")
    check(all(isinstance(v, str) for v in env.values()), f"{label}: every ConfigMap value is a string")
    refs = c.get("envFrom", [])
    check(any("configMapRef" in r for r in refs) and any("secretRef" in r for r in refs),
          f"{label}: env from the ConfigMap and the Secret")
    secrets = by_kind(objects, "Secret")
    check(len(secrets) == 1 and "RUNTIME_ADMIN_TOKEN" in {**secrets[0].get("data", {}), **secrets[0].get("stringData", {})},
          f"{label}: a Secret with RUNTIME_ADMIN_TOKEN")

    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    state = vols.get(mounts.get("/var/lib/buntime"), {})
    check(state.get("emptyDir", {}).get("medium") == "Memory", f"{label}: the state dir is a tmpfs emptyDir")
    check("/srv/buntime/apps" in mounts and mounts["/srv/buntime/apps"] in vols, f"{label}: apps mounted at /srv/buntime/apps")

    for kind in ("Service", "PodDisruptionBudget"):
        objs = by_kind(objects, kind)
        if check(len(objs) == 1, f"{label}: one {kind}"):
            s = objs[0]["spec"]["selector"]
            s = s.get("matchLabels", s)
            check(s and all(labels.get(k) == v for k, v in s.items()), f"{label}: the {kind} selects the pods")
    hpas = by_kind(objects, "HorizontalPodAutoscaler")
    if check(len(hpas) == 1, f"{label}: one HPA"):
        h = hpas[0]["spec"]
        check(h["scaleTargetRef"].get("kind") == "Deployment" and h["scaleTargetRef"].get("name") == d["metadata"]["name"],
              f"{label}: the HPA scales the Deployment")
        check(any(m.get("resource", {}).get("name") == "cpu" for m in h.get("metrics", [])), f"{label}: the HPA targets CPU")
        check(h.get("minReplicas", 0) >= 1 and h.get("maxReplicas", 0) >= h.get("minReplicas", 0), f"{label}: HPA bounds")
    return d, vols, mounts


def strategic_merge_volumes(deployment, patch_path):
    """Applies the overlay's volume/initContainer patch (a strategic merge subset)."""
    patch = load_docs(patch_path)[0]
    pspec = patch["spec"]["template"]["spec"]
    pod = deployment["spec"]["template"]["spec"]
    vols = {v["name"]: dict(v) for v in pod.get("volumes", [])}
    for v in pspec.get("volumes", []):
        merged = vols.get(v["name"], {})
        for key, value in v.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        vols[v["name"]] = merged
    pod["volumes"] = list(vols.values())
    pod["initContainers"] = pspec.get("initContainers", [])
    return deployment


# --- base (deploy/k8s and deploy/k8s/base) ---------------------------------------------------
objects, _ = kustomize(k8s)
base = check_common(objects, "base")
if base:
    d, vols, mounts = base
    apps = vols[mounts["/srv/buntime/apps"]]
    claim = apps.get("persistentVolumeClaim", {}).get("claimName")
    pvcs = {p["metadata"]["name"]: p for p in by_kind(objects, "PersistentVolumeClaim")}
    check(claim in pvcs and "ReadWriteMany" in pvcs[claim]["spec"].get("accessModes", []),
          "base: apps from a ReadWriteMany PersistentVolumeClaim")

# --- overlay: apps from an image -------------------------------------------------------------
ov_dir = os.path.join(k8s, "overlays", "apps-image")
ov_objects, ov_k = kustomize(ov_dir)
patch_files = [p["path"] for p in ov_k.get("patches", []) if "path" in p]
deleted = [yaml.safe_load(p["patch"]) for p in ov_k.get("patches", []) if "patch" in p]
check(any(p.get("$patch") == "delete" and p.get("kind") == "PersistentVolumeClaim" for p in deleted),
      "overlay: drops the claim")
ov_objects = [o for o in ov_objects if o.get("kind") != "PersistentVolumeClaim"]
if check(len(patch_files) == 1, "overlay: one Deployment patch"):
    for o in by_kind(ov_objects, "Deployment"):
        strategic_merge_volumes(o, os.path.join(ov_dir, patch_files[0]))
    ov = check_common(ov_objects, "overlay")
    if ov:
        d, vols, mounts = ov
        apps_vol = vols[mounts["/srv/buntime/apps"]]
        check("emptyDir" in apps_vol and "persistentVolumeClaim" not in apps_vol, "overlay: apps on a per-pod emptyDir")
        inits = d["spec"]["template"]["spec"].get("initContainers", [])
        check(len(inits) == 1 and any(m["mountPath"] == "/srv/buntime/apps" for m in inits[0].get("volumeMounts", []))
              and inits[0].get("securityContext", {}).get("readOnlyRootFilesystem") is True,
              "overlay: a locked-down init container fills the apps volume")

# --- Containerfile -----------------------------------------------------------------------------
cf_path = os.path.join(root, "deploy", "container", "Containerfile")
with open(cf_path, encoding="utf-8") as f:
    cf = f.read()
stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", cf, re.M | re.I)
check(len(stages) >= 2 and stages[0][1] == "build", "Containerfile: multi-stage, first stage 'build'")
runtime = cf.split("AS runtime", 1)[1].split("\nFROM ", 1)[0] if "AS runtime" in cf else ""
check(bool(runtime), "Containerfile: a 'runtime' stage")
check(not re.search(r"\b(g\+\+|gcc|clang|meson|ninja-build|-dev)\b", runtime), "Containerfile: no compilers in the runtime stage")
user = re.search(r"^USER\s+(\S+)", runtime, re.M)
check(user is not None and user.group(1).split(":")[0] not in ("0", "root"), "Containerfile: non-root USER")
check(re.search(r'^VOLUME\s+\["?/srv/buntime/apps"?\]', runtime, re.M) is not None, "Containerfile: VOLUME /srv/buntime/apps")
check(re.search(r"^STOPSIGNAL\s+SIGTERM\s*$", runtime, re.M) is not None, "Containerfile: STOPSIGNAL SIGTERM")
check(re.search(r"^HEALTHCHECK\s", runtime, re.M) is not None, "Containerfile: HEALTHCHECK")
entry = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", runtime, re.M)
check(entry is not None and (entry.group(1) == '["/usr/local/bin/buntime"]'
                             or re.search(r'"exec /usr/local/bin/buntime \\"\$@\\" 2>&1"', entry.group(1)) is not None),
      "Containerfile: ENTRYPOINT in exec form; the supervisor becomes PID 1 (sh only execs it, stderr to stdout)")

# --- podman kube play --dry-run, when this podman has it -------------------------------------
podman = shutil.which("podman")
dry = False
if podman:
    try:
        dry = "--dry-run" in subprocess.run([podman, "kube", "play", "--help"], capture_output=True, text=True,
                                            timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        dry = False
if dry:
    docs = yaml.safe_dump_all([o for o in objects if o["kind"] in ("ConfigMap", "Deployment")])
    r = subprocess.run([podman, "kube", "play", "--dry-run", "-"], input=docs, capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "podman kube play --dry-run accepts the Deployment" + (f": {r.stderr.strip()}" if r.returncode else ""))
else:
    print("note: podman kube play has no --dry-run here; the schema checks above stand in for it")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
