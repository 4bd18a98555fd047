"""The control-plane benchmark (run through bench/control-plane, which starts PostgreSQL).

One API, application and subscription are made through the REST APIs, so that every stored
document has the shape Portico writes; SQL then clones them to 10,000 APIs (each with a
revision deployed to the Default environment), 10,000 applications and 100,000
subscriptions. Latency is measured with keep-alive requests one at a time; the baseline is
GET /oauth2/jwks on the same node in the same run (the HTTP floor, no database).
"""
import os
import random
import statistics
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node import BenchNode  # noqa: E402

APIS = 10_000
APPS = 10_000
SUBS_PER_APP = 10
SAMPLES = 300
PUB = "/api/am/publisher/v4"
DEV = "/api/am/devportal/v3"
GATEWAY_CREDENTIAL = ("gateway", "bench-gateway-secret")


def psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def check(response, status=(200, 201)):
    if response.status_code not in status:
        raise SystemExit(f"{response.request.method} {response.url}: {response.status_code} {response.text}")
    return response.json() if response.content else None


def seed_through_rest(s, base):
    api = check(s.post(base + PUB + "/apis", json={
        "name": "benchapi", "context": "/benchapi", "version": "1.0.0",
        "description": "bench", "tags": ["bench"], "policies": ["Gold", "Unlimited"],
        "endpointConfig": {"endpoint_type": "http",
                           "production_endpoints": {"url": "http://127.0.0.1:9/"}},
        "operations": [{"target": "/items", "verb": "GET"}]}))
    check(s.post(base + PUB + "/apis/change-lifecycle",
                 params={"apiId": api["id"], "action": "Publish"}))
    rev = check(s.post(base + PUB + f"/apis/{api['id']}/revisions", json={"description": "r"}))
    check(s.post(base + PUB + f"/apis/{api['id']}/deploy-revision", params={"revisionId": rev["id"]},
                 json=[{"name": "Default", "vhost": "localhost", "displayOnDevportal": True}]))
    app = check(s.post(base + DEV + "/applications",
                       json={"name": "benchapp", "throttlingPolicy": "Unlimited"}))
    check(s.post(base + DEV + "/subscriptions", json={
        "applicationId": app["applicationId"], "apiId": api["id"], "throttlingPolicy": "Gold"}))
    return api["id"], app["applicationId"]


def clone_in_sql(url, api_id, app_id):
    """Copies the template rows; ids, names and contexts get the series number."""
    psql(url, f"""
      INSERT INTO apis (id, name, version, context, provider, lifecycle_status, visibility,
        is_default_version, description, document, openapi, thumbnail_type, thumbnail,
        created_time, updated_time)
      SELECT 'api-' || g, 'benchapi' || g, version, '/benchapi' || g, provider, lifecycle_status,
        visibility, is_default_version, description || ' number ' || g,
        replace(replace(replace(document, '{api_id}', 'api-' || g), '"benchapi', '"benchapi' || g),
          '"/benchapi"', '"/benchapi' || g || '"'),
        openapi, thumbnail_type, thumbnail, created_time + g, updated_time + g
      FROM apis t, generate_series(1, {APIS - 1}) g WHERE t.id = '{api_id}';
      INSERT INTO api_tags (api_id, tag) SELECT 'api-' || g, 'bench' FROM generate_series(1, {APIS - 1}) g;
      INSERT INTO api_subscription_policies (api_id, policy)
        SELECT 'api-' || g, p.policy FROM generate_series(1, {APIS - 1}) g,
          (SELECT policy FROM api_subscription_policies WHERE api_id = '{api_id}') p;
      INSERT INTO api_revisions (id, api_id, revision_number, description, document, openapi, created_time)
        SELECT 'rev-' || g, 'api-' || g, revision_number, description,
          replace(replace(document, '{api_id}', 'api-' || g), '"/benchapi"', '"/benchapi' || g || '"'),
          openapi, created_time
        FROM api_revisions t, generate_series(1, {APIS - 1}) g WHERE t.api_id = '{api_id}';
      INSERT INTO api_deployments (api_id, revision_id, environment, vhost, display_on_devportal, deployed_time)
        SELECT 'api-' || g, 'rev-' || g, environment, vhost, display_on_devportal, deployed_time
        FROM api_deployments t, generate_series(1, {APIS - 1}) g WHERE t.api_id = '{api_id}';
      INSERT INTO applications (id, name, owner, throttling_policy, token_type, status, document,
        created_time, updated_time)
        SELECT 'app-' || g, 'benchapp' || g, owner, throttling_policy, token_type, status,
          replace(replace(document, '{app_id}', 'app-' || g), '"benchapp', '"benchapp' || g),
          created_time, updated_time
        FROM applications t, generate_series(1, {APPS - 1}) g WHERE t.id = '{app_id}';
      INSERT INTO subscriptions (id, application_id, api_id, throttling_policy, status,
        created_time, updated_time)
        SELECT 'sub-' || a || '-' || k, 'app-' || a, 'api-' || ((a * {SUBS_PER_APP} + k) % {APIS - 1} + 1),
          'Gold', 'UNBLOCKED', 0, 0
        FROM generate_series(1, {APPS - 1}) a, generate_series(0, {SUBS_PER_APP - 1}) k;
      INSERT INTO subscriptions (id, application_id, api_id, throttling_policy, status,
        created_time, updated_time)
        SELECT 'sub-0-' || k, '{app_id}', 'api-' || k, 'Gold', 'UNBLOCKED', 0, 0
        FROM generate_series(1, {SUBS_PER_APP - 1}) k;
      ANALYZE;""")


def latencies(s, url_of, samples=SAMPLES):
    out = []
    for i in range(samples):
        began = time.perf_counter()
        r = s.get(url_of(i))
        out.append((time.perf_counter() - began) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"GET {r.url}: {r.status_code} {r.text[:300]}")
    out.sort()
    return out[len(out) // 2], out[int(len(out) * 0.99) - 1]


def pull(s, base, path, params=None):
    """Pages through one internal list; returns the number of items."""
    count, after = 0, ""
    while True:
        page = check(s.get(base + path, params={**(params or {}), "after": after, "limit": 1000},
                           auth=GATEWAY_CREDENTIAL))
        count += len(page["list"])
        after = page["next"]
        if not after:
            return count


def main():
    binary = sys.argv[1]
    admin_url = os.environ["PORTICO_TEST_POSTGRES_URL"]
    psql(admin_url, "CREATE DATABASE bench")
    url = admin_url.rsplit("/", 1)[0] + "/bench"
    node = BenchNode(binary, threads=2, extra_toml=(
        f'[database]\nurl = "{url}"\n[internal_api]\nusername = "{GATEWAY_CREDENTIAL[0]}"\n'
        f'password = "{GATEWAY_CREDENTIAL[1]}"\n'
        # the APIs' endpoints are on loopback
        "[security]\nallow_loopback_backends = true\n"))
    try:
        node.start()
        s = requests.Session()
        s.trust_env = False
        s.auth = ("admin", "admin")
        base = node.base
        began = time.monotonic()
        api_id, app_id = seed_through_rest(s, base)
        clone_in_sql(url, api_id, app_id)
        seeded = time.monotonic() - began
        total_subs = APPS * SUBS_PER_APP

        rng = random.Random(7)
        rows = [
            ("GET /oauth2/jwks (baseline, no database)", lambda i: base + "/oauth2/jwks"),
            ("publisher GET /apis?query=name:benchapiN", lambda i: base + PUB + f"/apis?query=name:benchapi{rng.randrange(1, APIS)}&limit=25"),
            ("publisher GET /apis?query=bench&offset=random", lambda i: base + PUB + f"/apis?query=bench&limit=25&offset={rng.randrange(0, APIS - 25)}"),
            ("publisher GET /apis?offset=random", lambda i: base + PUB + f"/apis?limit=25&offset={rng.randrange(0, APIS - 25)}"),
            ("devportal GET /apis?offset=random", lambda i: base + DEV + f"/apis?limit=25&offset={rng.randrange(0, APIS - 25)}"),
            ("devportal GET /subscriptions?applicationId=", lambda i: base + DEV + f"/subscriptions?applicationId=app-{rng.randrange(1, APPS)}&limit=25"),
            ("publisher GET /subscriptions?offset=random", lambda i: base + PUB + f"/subscriptions?limit=25&offset={rng.randrange(0, total_subs - 25)}"),
            ("publisher GET /subscriptions?apiId=", lambda i: base + PUB + f"/subscriptions?apiId=api-{rng.randrange(1, APIS)}&limit=25"),
        ]
        results = [(name, *latencies(s, f)) for name, f in rows]

        began = time.monotonic()
        artifacts = pull(s, base, "/internal/data/v1/runtime-artifacts", {"environment": "Default"})
        subs = pull(s, base, "/internal/data/v1/subscriptions")
        apps = pull(s, base, "/internal/data/v1/applications")
        pulled = time.monotonic() - began
    finally:
        node.cleanup()

    floor_p50, floor_p99 = results[0][1], results[0][2]
    print(f"control plane on PostgreSQL: {APIS} APIs, {APPS} applications, {total_subs} subscriptions "
          f"(seeded in {seeded:.1f} s); {SAMPLES} keep-alive requests each, page of 25")
    print(f"  {'request':52} {'p50 ms':>8} {'p99 ms':>8} {'p99/baseline':>13}")
    for name, p50, p99 in results:
        print(f"  {name:52} {p50:8.2f} {p99:8.2f} {p99 / floor_p99:12.1f}x")
    worst = max(p99 for _, _, p99 in results[1:])
    print(f"  worst p99 {worst:.2f} ms (target < 50 ms): {'met' if worst < 50 else 'MISSED'}")
    print(f"  gateway pull of a whole environment: {artifacts} runtime artifacts, {subs} subscriptions, "
          f"{apps} applications in {pulled:.2f} s")


if __name__ == "__main__":
    main()
