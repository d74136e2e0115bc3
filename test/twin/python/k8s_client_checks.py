"""Drives the twin's API server with the official Kubernetes Python client (Debian's python3-kubernetes).

Usage: python3 k8s_client_checks.py KUBECONFIG NAMESPACE
Prints one JSON object with what each call saw; test/twin/python-client.test.ts asserts on it.
"""
import json
import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

kubeconfig, ns = sys.argv[1], sys.argv[2]
config.load_kube_config(config_file=kubeconfig)
core = client.CoreV1Api()
apps = client.AppsV1Api()
custom = client.CustomObjectsApi()
out = {}

# list, with a label selector and paging (limit / _continue)
for i in range(3):
    core.create_namespaced_config_map(ns, {"metadata": {"name": f"cm-{i}", "labels": {"set": "py"}}, "data": {"i": str(i)}})
page1 = core.list_namespaced_config_map(ns, label_selector="set=py", limit=2)
page2 = core.list_namespaced_config_map(ns, label_selector="set=py", limit=2, _continue=page1.metadata._continue)
out["list"] = {
    "page1": [c.metadata.name for c in page1.items],
    "page2": [c.metadata.name for c in page2.items],
    "remaining": page1.metadata.remaining_item_count,
    "continue_after_last": page2.metadata._continue,
}

# watch: the client sends watch=True; events since the list's resourceVersion
rv = core.list_namespaced_config_map(ns).metadata.resource_version
core.create_namespaced_config_map(ns, {"metadata": {"name": "watched"}, "data": {"a": "1"}})
core.delete_namespaced_config_map("watched", ns)
seen = []
w = watch.Watch()
for ev in w.stream(core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=10, allow_watch_bookmarks=True):
    if ev["type"] == "BOOKMARK":
        continue
    seen.append([ev["type"], ev["object"].metadata.name])
    if ev["type"] == "DELETED":
        w.stop()
out["watch"] = seen

# patch (a dict body: strategic merge patch for a built-in kind)
patched = core.patch_namespaced_config_map("cm-0", ns, {"data": {"j": "x"}, "metadata": {"labels": {"patched": "yes"}}})
out["patch"] = {"data": patched.data, "labels": patched.metadata.labels}

# logs of a running pod, with tail_lines
pod = sys.argv[3]
out["logs"] = core.read_namespaced_pod_log(pod, ns, tail_lines=2)
out["logs_timestamps"] = core.read_namespaced_pod_log(pod, ns, tail_lines=1, timestamps=True)

# custom objects: an InferencePool, a merge patch, and one the CRD's CEL rules refuse
pool = {
    "apiVersion": "inference.networking.k8s.io/v1",
    "kind": "InferencePool",
    "metadata": {"name": "pool"},
    "spec": {"selector": {"matchLabels": {"app": "x"}}, "targetPorts": [{"number": 8000}], "endpointPickerRef": {"name": "epp", "port": {"number": 9002}}},
}
made = custom.create_namespaced_custom_object("inference.networking.k8s.io", "v1", ns, "inferencepools", pool)
got = custom.patch_namespaced_custom_object("inference.networking.k8s.io", "v1", ns, "inferencepools", "pool", {"spec": {"targetPorts": [{"number": 8000}, {"number": 8001}]}})
listed = custom.list_namespaced_custom_object("inference.networking.k8s.io", "v1", ns, "inferencepools")
bad = dict(pool, metadata={"name": "bad"}, spec=dict(pool["spec"], endpointPickerRef={"name": "epp"}))
try:
    custom.create_namespaced_custom_object("inference.networking.k8s.io", "v1", ns, "inferencepools", bad)
    refused = None
except ApiException as e:
    refused = {"status": e.status, "message": json.loads(e.body)["message"]}
out["custom"] = {
    "defaulted": made["spec"]["endpointPickerRef"],
    "ports": [p["number"] for p in got["spec"]["targetPorts"]],
    "names": [o["metadata"]["name"] for o in listed["items"]],
    "refused": refused,
}

# scale subresource of a Deployment
apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 2}})
scale = apps.read_namespaced_deployment_scale("web", ns)
out["scale"] = {"spec": scale.spec.replicas, "selector": scale.status.selector}

print(json.dumps(out))
