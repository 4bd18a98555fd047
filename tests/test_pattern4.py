"""Pattern 4 (deploy/patterns/4-internal-external): one control plane, one key manager, two
gateways of environment `internal` and two of `external`, nginx in front of each cluster of
gateways (PORTICO_GW_INTERNAL, PORTICO_GW_EXTERNAL) and of the control plane. A gateway
serves only the revisions deployed to its environment: an API deployed to `internal` alone
is unknown (404, as any unknown API) on the external gateways; and the developer portal
lists, for each environment, the URL of the nginx in front of its gateways (the vhost that
local-cluster gave the environment through the admin REST API). One cluster serves the
module."""

from __future__ import annotations

import os

import pytest
import requests

from cluster_support import ClusterEntry, local_cluster, start_cluster
from gateway_support import Backend, Caller, endpoint_config, error_code, lifecycle, publisher
from gateway_support import wait_for

PATTERN = "4-internal-external"
INTERNAL = ["gwi1", "gwi2"]
EXTERNAL = ["gwe1", "gwe2"]
PROPAGATION_SECONDS = 15
DEVPORTAL = "/api/am/devportal/v3"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    directory, endpoints = start_cluster(tmp_path_factory, PATTERN)
    yield endpoints
    # PORTICO_KEEP_CLUSTER=1 keeps the run folder (logs, databases) to look at afterwards.
    local_cluster.down(directory, purge=not os.environ.get("PORTICO_KEEP_CLUSTER"))


@pytest.fixture(scope="module")
def front(cluster):
    return ClusterEntry(cluster)


@pytest.fixture(scope="module")
def backend():
    b = Backend("pattern4")
    yield b
    b.close()


@pytest.fixture(scope="module")
def caller(front):
    return Caller(front)


def node_url(cluster: dict, name: str) -> str:
    """A gateway's own plain-HTTP port, bypassing nginx."""
    return f"http://127.0.0.1:{cluster[f'PORTICO_NODE_{name}_GATEWAY_HTTP']}"


def deploy(front: ClusterEntry, api_id: str, *environments: str) -> str:
    """A new revision of the API deployed to each of `environments`."""
    revision = publisher(front, "POST", f"/apis/{api_id}/revisions", json={"description": "r"})
    assert revision.status_code == 201, revision.text
    deployed = publisher(front, "POST", f"/apis/{api_id}/deploy-revision",
                         params={"revisionId": revision.json()["id"]},
                         json=[{"name": e, "displayOnDevportal": True} for e in environments])
    assert deployed.status_code == 201, deployed.text
    return revision.json()["id"]


def published_api(front: ClusterEntry, backend: Backend, caller: Caller, name: str,
                  *environments: str) -> dict:
    created = publisher(front, "POST", "/apis", json={
        "name": name, "context": "/" + name.lower(), "version": "1.0.0",
        "endpointConfig": endpoint_config(backend.url), "policies": ["Unlimited"]})
    assert created.status_code == 201, created.text
    api = created.json()
    deploy(front, api["id"], *environments)
    lifecycle(front, api["id"], "Publish")
    caller.subscribe(api)
    api["path"] = f"/{name.lower()}/1.0.0"
    return api


def get(base: str, path: str, token: str, cert: str | None = None) -> requests.Response:
    return requests.get(base + path, headers={"Authorization": f"Bearer {token}"},
                        verify=cert or True, timeout=10)


def answers(base: str, path: str, token: str, status: int, cert: str | None = None):
    def attempt():
        try:
            response = get(base, path, token, cert)
        except requests.RequestException:
            return None
        return [response] if response.status_code == status else None
    return wait_for(attempt, timeout=PROPAGATION_SECONDS, interval=0.05)[0]


def test_the_environments_exist_with_nginx_as_their_vhost(cluster, front):
    listed = front.request("GET", front.https_url + "/api/am/admin/v4/environments",
                           auth=front.admin_auth)
    assert listed.status_code == 200, listed.text
    by_name = {e["name"]: e for e in listed.json()["list"]}
    for name, variable in (("internal", "PORTICO_GW_INTERNAL"),
                           ("external", "PORTICO_GW_EXTERNAL")):
        vhost = by_name[name]["vhosts"][0]
        assert f"https://{vhost['host']}:{vhost['httpsPort']}" == cluster[variable]
        assert f"http://{vhost['host']}:{vhost['httpPort']}" == cluster[variable + "_HTTP"]


def test_an_api_deployed_to_internal_only_is_unknown_on_the_external_gateways(
        cluster, front, backend, caller):
    internal_only = published_api(front, backend, caller, "Inner" + os.urandom(3).hex(),
                                  "internal")
    everywhere = published_api(front, backend, caller, "Both" + os.urandom(3).hex(),
                               "internal", "external")
    token = caller.token()
    ca = cluster["PORTICO_CA"]
    for name in INTERNAL + EXTERNAL:
        answers(node_url(cluster, name), everywhere["path"], token, 200)
    # The external gateways have seen the later deployment, hence the earlier one too.
    for name in INTERNAL:
        answers(node_url(cluster, name), internal_only["path"], token, 200)
    assert get(cluster["PORTICO_GW_INTERNAL"], internal_only["path"], token, ca) \
        .status_code == 200
    assert get(cluster["PORTICO_GW_EXTERNAL"], everywhere["path"], token, ca).status_code == 200

    unknown = get(cluster["PORTICO_GW_EXTERNAL"], "/nosuchapi/1.0.0", token, ca)
    assert unknown.status_code == 404
    for base in [cluster["PORTICO_GW_EXTERNAL"]] + [node_url(cluster, n) for n in EXTERNAL]:
        refused = get(base, internal_only["path"], token, ca)
        assert refused.status_code == 404, refused.text
        assert error_code(refused) == 404
        assert refused.json() == unknown.json()  # as if the API did not exist


def test_deployed_to_external_too_it_answers_there_until_undeployed_there(
        cluster, front, backend, caller):
    api = published_api(front, backend, caller, "Later" + os.urandom(3).hex(), "internal")
    token = caller.token()
    answers(cluster["PORTICO_GW_INTERNAL"], api["path"], token, 200, cluster["PORTICO_CA"])
    revision = deploy(front, api["id"], "external")
    for name in EXTERNAL:
        answers(node_url(cluster, name), api["path"], token, 200)
    answers(cluster["PORTICO_GW_EXTERNAL"], api["path"], token, 200, cluster["PORTICO_CA"])
    for name in INTERNAL:
        assert get(node_url(cluster, name), api["path"], token).status_code == 200

    undeployed = publisher(front, "POST", f"/apis/{api['id']}/undeploy-revision",
                           params={"revisionId": revision},
                           json=[{"name": "external", "displayOnDevportal": True}])
    assert undeployed.status_code in (200, 201), undeployed.text
    for name in EXTERNAL:
        answers(node_url(cluster, name), api["path"], token, 404)
    for name in INTERNAL:
        assert get(node_url(cluster, name), api["path"], token).status_code == 200


def test_the_devportal_lists_each_environments_gateway_url_and_it_answers(
        cluster, front, backend, caller):
    api = published_api(front, backend, caller, "Listed" + os.urandom(3).hex(),
                        "internal", "external")
    detail = front.request("GET", f"{front.https_url}{DEVPORTAL}/apis/{api['id']}")
    assert detail.status_code == 200, detail.text
    urls = {e["environmentName"]: (e["environmentDisplayName"], e["URLs"]["https"],
                                   e["URLs"]["http"]) for e in detail.json()["endpointURLs"]}
    assert urls == {
        "internal": ("Internal", cluster["PORTICO_GW_INTERNAL"] + api["path"],
                     cluster["PORTICO_GW_INTERNAL_HTTP"] + api["path"]),
        "external": ("External", cluster["PORTICO_GW_EXTERNAL"] + api["path"],
                     cluster["PORTICO_GW_EXTERNAL_HTTP"] + api["path"]),
    }
    # What the portal shows is where the API answers.
    token = caller.token()
    for _, https_url, http_url in urls.values():
        answers(https_url, "", token, 200, cluster["PORTICO_CA"])
        answers(http_url, "", token, 200)
