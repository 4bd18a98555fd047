"""The gateway's snapshot file: what a gateway restarted while the control plane is down serves
from. It carries the cluster id, the issuer, the key manager's JWKS and a checksum; a file
whose checksum does not match is ignored (with an error in the log), never served. Changes
after its first write go to its journal, replayed at start-up."""

import hashlib
import json

import requests

from gateway_support import (Caller, backend_fixture, publish_api, publisher, wait_for,
                             wait_for_status)
from snapshot_file_support import read_snapshot

upstream = backend_fixture("snapshot-file-backend")


def snapshot_file(node):
    return node.data_dir / "gateway-snapshot-Default.json"


def read_snapshot_file(node):
    header, body = snapshot_file(node).read_text().split("\n", 1)
    return json.loads(header), body


def deployed_apis(node):
    """The ids of the APIs in the file with its journal replayed."""
    _, content = read_snapshot(snapshot_file(node))
    return {artifact["apiId"] for artifact in content["runtimeArtifacts"]}


def test_the_file_carries_cluster_jwks_and_a_checksum(node, upstream):
    api = publish_api(node, upstream.url)
    caller = Caller(node)
    caller.subscribe(api)
    wait_for_status(node, "GET", api["context"] + "/1.0.0/x", 200, caller.token())

    wait_for(lambda: api["id"] in deployed_apis(node), timeout=30)
    header, body = read_snapshot_file(node)
    assert header["format"] == 2
    assert header["checksum"] == hashlib.sha256(body.encode()).hexdigest()
    content = json.loads(body)
    assert content["environment"] == "Default"
    assert len(content["clusterId"]) >= 16
    kids = {key["kid"] for key in node.jwks()["keys"]}
    assert kids and kids <= {key["kid"] for key in json.loads(content["jwks"])["keys"]}


def test_a_file_with_a_bad_checksum_is_ignored(launcher, upstream):
    node = launcher.new()
    publish_api(node, upstream.url)
    wait_for(lambda: snapshot_file(node).exists(), timeout=30)
    node.stop()
    header, body = read_snapshot_file(node)
    snapshot_file(node).write_text(json.dumps(header) + "\n" + body.replace("Default", "Defaulx", 1))
    node.start()
    wait_for(lambda: "checksum does not match" in node.log_tail(400))
    # The control plane answers: the gateway serves from its pull, not from the bad file.
    ready = requests.get(node.gateway_admin_url + "/health/ready", timeout=10)
    assert ready.status_code == 200, ready.text


def test_the_last_api_undeployed_leaves_the_gateway_and_its_file(launcher, upstream):
    # The gateway refuses a pull that would drop every API (a control plane on a wiped
    # database); an undeployment it hears of through its event is a per-item read instead, so
    # an environment's last API does leave.
    node = launcher.new()
    api = publish_api(node, upstream.url)
    caller = Caller(node)
    caller.subscribe(api)
    path = api["context"] + "/1.0.0/x"
    wait_for_status(node, "GET", path, 200, caller.token())
    wait_for(lambda: api["id"] in deployed_apis(node), timeout=30)
    [revision] = publisher(node, "GET", f"/apis/{api['id']}/revisions").json()["list"]
    undeployed = publisher(node, "POST", f"/apis/{api['id']}/undeploy-revision",
                           params={"revisionId": revision["id"]}, json=[{"name": "Default"}])
    assert undeployed.status_code == 201, undeployed.text
    wait_for_status(node, "GET", path, 404, caller.token())
    wait_for(lambda: api["id"] not in deployed_apis(node), timeout=30)
    assert "snapshot pull refused" not in node.log_tail(400)
