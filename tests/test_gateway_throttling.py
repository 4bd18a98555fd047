"""Throttling through the gateway end to end: policies created with small limits through the
Admin v4 API, APIs published and subscribed through the Publisher and Developer Portal, and
calls through the gateway's port, counted exactly (docs/throttling.md).

Every level admits exactly its limit per window on one node, and the request after it gets
the level's code with a Retry-After in whole seconds up to the end of the window: subscription
tier 900804, its burst control 900807, application tier 900803, API-level advanced policy
900800, resource-level 900802, backend max TPS 503 900801. Blocking conditions (deny
policies) answer 429 900805 without Retry-After, until they are disabled.

Windows are aligned to the epoch: a counting burst starts with at least 8 s left in the
current minute, and the readiness probe (an admitted call) is counted when it fell in the
same window."""

import itertools
import math
import time

import pytest

from devportal_support import PASSWORD, sign_up
from gateway_support import (backend_fixture, Caller, admin, bandwidth_limit, concurrently,
                             counted_in_window, create_deny_policy, create_policy,
                             delete_deny_policy, endpoint_config, error_code, gateway,
                             gateway_from, publish_api, request_limit, retry_after,
                             set_deny_policy, wait_for, wait_for_status)

WINDOW = 60


echo_backend = backend_fixture("throttle")


def ready(node, path, token, **kwargs) -> list[tuple[float, float]]:
    """Waits until the gateway admits `token` on `path`; returns the interval within which
    the one admitted probe was counted."""
    start = time.time()
    wait_for_status(node, "GET", path, 200, token, **kwargs)
    return [(start, time.time())]


def assert_refused(response, status: int, code: int, window: int = WINDOW) -> None:
    """A throttling refusal: status, code and a Retry-After up to the end of the window."""
    assert response.status_code == status, response.text
    assert error_code(response) == code, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    seconds = retry_after(response)
    assert 1 <= seconds <= window, seconds
    # The seconds to the end of the window that refused, rounded up.
    expected = math.ceil(window - time.time() % window)
    assert abs(seconds - expected) <= 1, (seconds, expected)


def admitted(node, path, token, count, **kwargs) -> None:
    statuses = [gateway(node, "GET", path, token, **kwargs).status_code for _ in range(count)]
    assert statuses == [200] * count, statuses


def assert_blocked(response) -> None:
    assert response.status_code == 429, response.text
    assert error_code(response) == 900805, response.text
    assert response.json()["message"] == "Message blocked"
    assert "Retry-After" not in response.headers


# ---- subscription tier ------------------------------------------------------------------

def subscribed(node, echo_backend, tier: str, **api_fields):
    """An API offering `tier`, a caller subscribed with it and a token admitted once."""
    api = publish_api(node, echo_backend.url, policies=[tier, "Unlimited"], **api_fields)
    caller = Caller(node)
    caller.subscribe(api, tier)
    token = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    probes = ready(node, path, token)
    return api, caller, token, path, probes


def test_subscription_tier_admits_exactly_its_limit(node, echo_backend):
    tier = create_policy(node, "subscription", request_limit(5), stopOnQuotaReach=True)
    api, _, token, path, probes = subscribed(node, echo_backend, tier["policyName"])
    spent = counted_in_window(probes)
    admitted(node, path, token, 5 - spent)
    over = gateway(node, "GET", path, token)
    assert_refused(over, 429, 900804)
    assert over.json()["message"] == "Subscription level throttled out"
    # Refusals are not counted and do not reach the backend: still refused, with the same code.
    assert error_code(gateway(node, "GET", f"{api['context']}/1.0.0/other", token)) == 900804
    # The quota is per subscription: another application's subscription has its own.
    other = Caller(node)
    other.subscribe(api, tier["policyName"])
    wait_for_status(node, "GET", path, 200, other.token())


def test_subscription_tier_is_exact_under_concurrency(node, echo_backend):
    tier = create_policy(node, "subscription", request_limit(20), stopOnQuotaReach=True)
    _, _, token, path, probes = subscribed(node, echo_backend, tier["policyName"])
    spent = counted_in_window(probes)
    responses = concurrently(40, lambda: gateway(node, "GET", path, token), workers=8)
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 20 - spent, statuses
    assert statuses.count(429) == 20 + spent, statuses
    for r in responses:
        if r.status_code == 429:
            assert error_code(r) == 900804


def test_burst_control_per_minute_is_900807(node, echo_backend):
    tier = create_policy(node, "subscription", request_limit(1000), stopOnQuotaReach=True,
                         rateLimitCount=3, rateLimitTimeUnit="min")
    _, _, token, path, probes = subscribed(node, echo_backend, tier["policyName"])
    spent = counted_in_window(probes)
    admitted(node, path, token, 3 - spent)
    over = gateway(node, "GET", path, token)
    assert_refused(over, 429, 900807)
    assert over.json()["message"] == "Message throttled out"


def burst_within_one_second(call, count: int, attempts: int = 10):
    """`count` concurrent calls, started just after a whole second and retried until all of
    them ran within that same second."""
    for _ in range(attempts):
        time.sleep(1 - time.time() % 1 + 0.02)
        start = time.time()
        responses = concurrently(count, call, workers=count)
        if int(time.time()) == int(start):
            return responses
    pytest.fail(f"{count} calls never fitted in one second in {attempts} attempts")


def test_burst_control_per_second_is_900807(node, echo_backend):
    tier = create_policy(node, "subscription", request_limit(1000), stopOnQuotaReach=True,
                         rateLimitCount=2, rateLimitTimeUnit="sec")
    _, _, token, path, _ = subscribed(node, echo_backend, tier["policyName"])
    responses = burst_within_one_second(lambda: gateway(node, "GET", path, token), 5)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429, 429, 429], statuses
    for r in responses:
        if r.status_code == 429:
            assert error_code(r) == 900807
            assert retry_after(r) == 1


def test_a_tier_that_does_not_stop_on_quota_lets_traffic_through(node, echo_backend):
    # Over its quota the subscription is only recorded as such; burst control still refuses.
    tier = create_policy(node, "subscription", request_limit(2), stopOnQuotaReach=False,
                         rateLimitCount=5, rateLimitTimeUnit="min")
    _, _, token, path, probes = subscribed(node, echo_backend, tier["policyName"])
    spent = counted_in_window(probes)
    admitted(node, path, token, 5 - spent)
    assert_refused(gateway(node, "GET", path, token), 429, 900807)


# ---- application tier ---------------------------------------------------------------------

def test_application_tier_counts_per_application_and_end_user(node, echo_backend):
    policy = create_policy(node, "application", request_limit(4))
    api = publish_api(node, echo_backend.url)
    second_api = publish_api(node, echo_backend.url)
    caller = Caller(node, app_policy=policy["policyName"])
    caller.subscribe(api)
    caller.subscribe(second_api)
    caller.credentials(grants=["client_credentials", "password"])
    token = caller.token()  # the end user of an application token is the application's owner
    path = f"{api['context']}/1.0.0/pets"
    probes = ready(node, path, token)
    probes += ready(node, f"{second_api['context']}/1.0.0/pets", token)
    spent = counted_in_window(probes)
    admitted(node, path, token, 4 - spent)
    over = gateway(node, "GET", path, token)
    assert_refused(over, 429, 900803)
    assert over.json()["message"] == "Application level throttle out"
    # The application's quota spans its APIs.
    assert_refused(gateway(node, "GET", f"{second_api['context']}/1.0.0/x", token), 429, 900803)
    # Another end user of the same application has a quota of their own.
    user = sign_up(node)
    user_token = caller.token(grant={"grant_type": "password", "username": user.username,
                                     "password": PASSWORD})
    admitted(node, path, user_token, 1)
    # So has another application with the same policy.
    other = Caller(node, app_policy=policy["policyName"])
    other.subscribe(api)
    wait_for_status(node, "GET", path, 200, other.token())


# ---- advanced policies ----------------------------------------------------------------------

def test_api_level_policy_is_shared_by_every_caller(node, echo_backend):
    policy = create_policy(node, "advanced", request_limit(5))
    api = publish_api(node, echo_backend.url, apiThrottlingPolicy=policy["policyName"],
                      isDefaultVersion=True)
    callers = [Caller(node), Caller(node)]
    tokens = []
    for c in callers:
        c.subscribe(api)
        tokens.append(c.token())
    path = f"{api['context']}/1.0.0/pets"
    probes = ready(node, path, tokens[0]) + ready(node, path, tokens[1])
    spent = counted_in_window(probes)
    for i in range(5 - spent):
        # The default version's path (without the version) is the same API and counter.
        admitted(node, path if i % 2 else f"{api['context']}/pets", tokens[i % 2], 1)
    assert_refused(gateway(node, "GET", f"{api['context']}/pets", tokens[0]), 429, 900800)
    for t in tokens:
        over = gateway(node, "GET", path, t)
        assert_refused(over, 429, 900800)
        assert over.json()["message"] == "Message throttled out"


def test_api_level_policy_is_exact_under_concurrency(node, echo_backend):
    policy = create_policy(node, "advanced", request_limit(15))
    api = publish_api(node, echo_backend.url, apiThrottlingPolicy=policy["policyName"])
    tokens = []
    probes = []
    for _ in range(2):
        c = Caller(node)
        c.subscribe(api)
        tokens.append(c.token())
        probes += ready(node, f"{api['context']}/1.0.0/pets", tokens[-1])
    spent = counted_in_window(probes)
    calls = itertools.count()

    def call():
        return gateway(node, "GET", f"{api['context']}/1.0.0/pets", tokens[next(calls) % 2])

    statuses = [r.status_code for r in concurrently(30, call, workers=6)]
    assert statuses.count(200) == 15 - spent, statuses
    assert statuses.count(429) == 15 + spent, statuses


def test_a_refusal_at_a_later_level_gives_back_the_api_quota(node, echo_backend):
    policy = create_policy(node, "advanced", request_limit(6))
    tier = create_policy(node, "subscription", request_limit(2), stopOnQuotaReach=True)
    api = publish_api(node, echo_backend.url, apiThrottlingPolicy=policy["policyName"],
                      policies=[tier["policyName"], "Unlimited"])
    limited, free = Caller(node), Caller(node)
    limited.subscribe(api, tier["policyName"])
    free.subscribe(api, "Unlimited")
    limited_token, free_token = limited.token(), free.token()
    path = f"{api['context']}/1.0.0/pets"
    probes = ready(node, path, limited_token) + ready(node, path, free_token)
    spent_api = counted_in_window(probes)
    spent_limited = counted_in_window(probes[:1])  # the same window: 8 s remain in it
    admitted(node, path, limited_token, 2 - spent_limited)
    # Refused by the subscription tier after the API level admitted them: given back.
    for _ in range(5):
        assert_refused(gateway(node, "GET", path, limited_token), 429, 900804)
    admitted(node, path, free_token, 6 - spent_api - (2 - spent_limited))
    assert_refused(gateway(node, "GET", path, free_token), 429, 900800)


def test_resource_level_policy_counts_each_resource(node, echo_backend):
    policy = create_policy(node, "advanced", request_limit(3))
    operations = [
        {"target": "/limited", "verb": "GET", "throttlingPolicy": policy["policyName"]},
        {"target": "/limited", "verb": "POST", "throttlingPolicy": policy["policyName"]},
        {"target": "/free", "verb": "GET", "throttlingPolicy": "Unlimited"},
    ]
    api = publish_api(node, echo_backend.url, operations=operations)
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    base = f"{api['context']}/1.0.0"
    probes = ready(node, base + "/free", token)
    counted_in_window(probes)
    admitted(node, base + "/limited", token, 3)
    over = gateway(node, "GET", base + "/limited", token)
    assert_refused(over, 429, 900802)
    assert over.json()["message"] == "Resource level throttle out"
    # Other resources, and the same template with another verb, count apart.
    admitted(node, base + "/free", token, 2)
    assert gateway(node, "POST", base + "/limited", token).status_code == 200


def test_a_conditional_group_counts_apart_from_the_default_limit(node, echo_backend):
    group = {"description": "gold callers",
             "conditions": [{"type": "HEADERCONDITION", "invertCondition": False,
                             "headerCondition": {"headerName": "X-Tier", "headerValue": "gold"}}],
             "limit": request_limit(2)}
    policy = create_policy(node, "advanced", request_limit(4), conditionalGroups=[group])
    api = publish_api(node, echo_backend.url, apiThrottlingPolicy=policy["policyName"])
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    spent = counted_in_window(ready(node, path, token))
    gold = {"X-Tier": "gold"}
    admitted(node, path, token, 2, headers=gold)
    assert_refused(gateway(node, "GET", path, token, headers=gold), 429, 900800)
    # The value is found in the header's value, as the reference's find().
    assert_refused(gateway(node, "GET", path, token, headers={"X-Tier": "goldish"}), 429, 900800)
    # Requests the group does not apply to count against the default limit only.
    admitted(node, path, token, 4 - spent, headers={"X-Tier": "silver"})
    assert_refused(gateway(node, "GET", path, token), 429, 900800)


def test_calls_the_gateway_answers_itself_spend_no_quota(node, echo_backend):
    # Preflights, OPTIONS answered with Allow and unauthenticated calls are answered before
    # the throttle: nobody can spend an API's quota without reaching it.
    policy = create_policy(node, "advanced", request_limit(3))
    api = publish_api(node, echo_backend.url, apiThrottlingPolicy=policy["policyName"],
                      corsConfiguration={"corsConfigurationEnabled": True,
                                         "accessControlAllowOrigins": ["*"]})
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    spent = counted_in_window(ready(node, path, token))
    for _ in range(5):
        preflight = gateway(node, "OPTIONS", path, headers={
            "Origin": "https://a.example", "Access-Control-Request-Method": "GET"})
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        assert "Allow" in gateway(node, "OPTIONS", path).headers
        assert gateway(node, "GET", path).status_code == 401
        assert gateway(node, "GET", path, "not-a-token").status_code == 401
    admitted(node, path, token, 3 - spent)
    refused = gateway(node, "GET", path, token, headers={"Origin": "https://a.example"})
    assert_refused(refused, 429, 900800)
    # A throttled page can read why.
    assert refused.headers["Access-Control-Allow-Origin"] == "*"


def test_query_and_ip_groups_on_a_resource_are_900802(node, echo_backend):
    groups = [
        {"conditions": [{"type": "QUERYPARAMETERCONDITION", "queryParameterCondition": {
            "parameterName": "plan", "parameterValue": "free"}}],
         "limit": request_limit(1)},
        {"conditions": [{"type": "IPCONDITION", "ipCondition": {
            "ipConditionType": "IPSPECIFIC", "specificIP": "127.0.0.2"}}],
         "limit": request_limit(2)},
    ]
    policy = create_policy(node, "advanced", request_limit(1000), conditionalGroups=groups)
    api = publish_api(node, echo_backend.url, operations=[
        {"target": "/pets", "verb": "GET", "throttlingPolicy": policy["policyName"]}])
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    counted_in_window(ready(node, path, token))
    # A query parameter matches on its whole value.
    admitted(node, path + "?plan=free", token, 1)
    assert_refused(gateway(node, "GET", path + "?plan=free", token), 429, 900802)
    admitted(node, path + "?plan=freedom", token, 2)
    # The address group counts the calls from that address only.
    for _ in range(2):
        assert gateway_from("127.0.0.2", node, "GET", path, token).status_code == 200
    assert_refused(gateway_from("127.0.0.2", node, "GET", path, token), 429, 900802)
    admitted(node, path, token, 2)
    # A call both groups apply to counts in both, and either may refuse it.
    assert_refused(gateway_from("127.0.0.2", node, "GET", path + "?plan=free", token),
                   429, 900802)


def test_a_bandwidth_subscription_tier_is_900804(node, echo_backend):
    tier = create_policy(node, "subscription", bandwidth_limit(2, "KB"), stopOnQuotaReach=True)
    api, _, token, path, probes = subscribed(node, echo_backend, tier["policyName"])
    counted_in_window(probes, margin=10)
    # The probe's echo took some of the 2048 bytes (if it fell in this window); 1500-byte
    # request bodies take the rest within two calls.
    statuses = []
    for _ in range(3):
        r = gateway(node, "POST", f"{api['context']}/1.0.0/upload", token, data=b"u" * 1500)
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert_refused(r, 429, 900804)
            break
    assert statuses in ([200, 429], [200, 200, 429]), statuses
    assert_refused(gateway(node, "GET", path, token), 429, 900804)


def test_a_bandwidth_limit_counts_response_bytes(node, echo_backend):
    policy = create_policy(node, "advanced", bandwidth_limit(1, "KB"))
    operations = [
        {"target": "/download/{n}", "verb": "GET", "throttlingPolicy": policy["policyName"]},
        {"target": "/ready", "verb": "GET"},
    ]
    api = publish_api(node, echo_backend.url, operations=operations)
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    base = f"{api['context']}/1.0.0"
    counted_in_window(ready(node, base + "/ready", token))
    # 700 bytes each: the first leaves 324 of 1024, the second takes the window past the
    # limit, the third is refused.
    for _ in range(2):
        response = gateway(node, "GET", base + "/download/700", token)
        assert response.status_code == 200 and len(response.content) == 700
    assert_refused(gateway(node, "GET", base + "/download/700", token), 429, 900802)


# ---- backend max TPS ----------------------------------------------------------------------

def test_backend_max_tps_is_503_900801(node, echo_backend):
    api = publish_api(node, echo_backend.url, maxTps={"production": 2})
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    ready(node, path, token)
    responses = burst_within_one_second(lambda: gateway(node, "GET", path, token), 5)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 503, 503, 503], statuses
    for r in responses:
        if r.status_code == 503:
            assert error_code(r) == 900801
            assert r.json()["message"] == "Hard limit exceeded"
            assert retry_after(r) == 1


def test_backend_max_tps_counts_each_key_type_apart(node, echo_backend):
    api = publish_api(node, endpoint=endpoint_config(echo_backend.url + "/prod",
                                                     echo_backend.url + "/sandbox"),
                      maxTps={"production": 100, "sandbox": 1})
    caller = Caller(node)
    caller.subscribe(api)
    sandbox = caller.token("SANDBOX")
    production = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    assert wait_for_status(node, "GET", path, 200, sandbox).json()["path"] == "/sandbox/pets"
    ready(node, path, production)
    calls = itertools.count()

    def call():
        key_type = "SANDBOX" if next(calls) % 2 else "PRODUCTION"
        token = sandbox if key_type == "SANDBOX" else production
        return key_type, gateway(node, "GET", path, token)

    results = burst_within_one_second(call, 6)
    sandbox_statuses = sorted(r.status_code for k, r in results if k == "SANDBOX")
    assert sandbox_statuses == [200, 503, 503], sandbox_statuses
    assert [r.status_code for k, r in results if k == "PRODUCTION"] == [200, 200, 200]


def test_a_tier_raised_through_the_admin_api_applies_at_once(node, echo_backend):
    tier = create_policy(node, "subscription", request_limit(2), stopOnQuotaReach=True)
    _, _, token, path, probes = subscribed(node, echo_backend, tier["policyName"])
    spent = counted_in_window(probes, margin=15)
    admitted(node, path, token, 2 - spent)
    assert_refused(gateway(node, "GET", path, token), 429, 900804)
    tier["defaultLimit"] = request_limit(1000)
    response = admin(node, "PUT", f"/throttling/policies/subscription/{tier['policyId']}",
                     json=tier)
    assert response.status_code == 200, response.text
    wait_for_status(node, "GET", path, 200, token)


# ---- blocking conditions ------------------------------------------------------------------

@pytest.fixture(scope="module")
def open_api(node, echo_backend):
    return publish_api(node, echo_backend.url)


def caller_of(node, api) -> tuple[Caller, str, str]:
    caller = Caller(node)
    caller.subscribe(api)
    token = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    wait_for_status(node, "GET", path, 200, token)
    return caller, token, path


def test_an_api_deny_policy_blocks_the_api_until_disabled(node, echo_backend, open_api):
    api = publish_api(node, echo_backend.url, isDefaultVersion=True)
    caller = Caller(node)
    caller.subscribe(api)
    caller.subscribe(open_api)
    token = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    wait_for_status(node, "GET", path, 200, token)
    policy = create_deny_policy(node, "API", f"{api['context']}/1.0.0")
    assert_blocked(wait_for_status(node, "GET", path, 429, token))
    assert gateway(node, "GET", f"{open_api['context']}/1.0.0/pets", token).status_code == 200
    # The default version's path without the version is the same API.
    assert_blocked(gateway(node, "GET", f"{api['context']}/pets", token))
    set_deny_policy(node, policy, False)
    wait_for_status(node, "GET", path, 200, token)
    set_deny_policy(node, policy, True)
    assert_blocked(wait_for_status(node, "GET", path, 429, token))
    delete_deny_policy(node, policy)
    wait_for_status(node, "GET", path, 200, token)


def test_an_application_deny_policy_names_owner_and_application(node, open_api):
    blocked, token, path = caller_of(node, open_api)
    _, other_token, _ = caller_of(node, open_api)
    policy = create_deny_policy(
        node, "APPLICATION", f"{blocked.developer.username}:{blocked.app['name']}")
    assert_blocked(wait_for_status(node, "GET", path, 429, token))
    assert gateway(node, "GET", path, other_token).status_code == 200
    set_deny_policy(node, policy, False)
    wait_for_status(node, "GET", path, 200, token)
    delete_deny_policy(node, policy)


def test_a_user_deny_policy_blocks_the_end_user(node, open_api):
    blocked, token, path = caller_of(node, open_api)
    _, other_token, _ = caller_of(node, open_api)
    # An application token's end user is the application's owner.
    policy = create_deny_policy(node, "USER", blocked.developer.username)
    assert_blocked(wait_for_status(node, "GET", path, 429, token))
    assert gateway(node, "GET", path, other_token).status_code == 200
    set_deny_policy(node, policy, False)
    wait_for_status(node, "GET", path, 200, token)
    delete_deny_policy(node, policy)


def wait_for_status_from(source_ip, node, path, status, token):
    def attempt():
        r = gateway_from(source_ip, node, "GET", path, token)
        return [r] if r.status_code == status else None
    return wait_for(attempt)[0]


def test_an_ip_deny_policy_blocks_that_address(node, open_api):
    _, token, path = caller_of(node, open_api)
    assert gateway_from("127.0.0.2", node, "GET", path, token).status_code == 200
    policy = create_deny_policy(node, "IP", {"fixedIp": "127.0.0.2", "invert": False})
    assert_blocked(wait_for_status_from("127.0.0.2", node, path, 429, token))
    assert gateway_from("127.0.0.3", node, "GET", path, token).status_code == 200
    assert gateway(node, "GET", path, token).status_code == 200
    # The address is the connection's: an X-Forwarded-For the client writes changes nothing.
    assert_blocked(gateway_from("127.0.0.2", node, "GET", path, token,
                                headers={"X-Forwarded-For": "203.0.113.9"}))
    assert gateway(node, "GET", path, token,
                   headers={"X-Forwarded-For": "127.0.0.2"}).status_code == 200
    set_deny_policy(node, policy, False)
    wait_for_status_from("127.0.0.2", node, path, 200, token)
    delete_deny_policy(node, policy)


def test_an_ip_range_deny_policy_blocks_the_range(node, open_api):
    _, token, path = caller_of(node, open_api)
    policy = create_deny_policy(node, "IPRANGE", {"startingIp": "127.0.0.2",
                                                  "endingIp": "127.0.0.4", "invert": False})
    assert_blocked(wait_for_status_from("127.0.0.3", node, path, 429, token))
    assert_blocked(gateway_from("127.0.0.2", node, "GET", path, token))
    assert_blocked(gateway_from("127.0.0.4", node, "GET", path, token))
    assert gateway_from("127.0.0.5", node, "GET", path, token).status_code == 200
    assert gateway(node, "GET", path, token).status_code == 200
    set_deny_policy(node, policy, False)
    wait_for_status_from("127.0.0.3", node, path, 200, token)
    delete_deny_policy(node, policy)

    # Inverted: every address outside the range is blocked.
    policy = create_deny_policy(node, "IPRANGE", {"startingIp": "127.0.0.1",
                                                  "endingIp": "127.0.0.9", "invert": True})
    assert_blocked(wait_for_status_from("127.0.0.10", node, path, 429, token))
    assert gateway_from("127.0.0.9", node, "GET", path, token).status_code == 200
    assert gateway(node, "GET", path, token).status_code == 200
    delete_deny_policy(node, policy)
    wait_for_status_from("127.0.0.10", node, path, 200, token)


def test_a_blocked_request_spends_no_quota(node, echo_backend):
    tier = create_policy(node, "subscription", request_limit(3), stopOnQuotaReach=True)
    caller = Caller(node)
    # Blocked before the gateway ever admits the caller: no request of theirs is counted.
    policy = create_deny_policy(node, "USER", caller.developer.username)
    api = publish_api(node, echo_backend.url, policies=[tier["policyName"]])
    caller.subscribe(api, tier["policyName"])
    token = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    assert_blocked(wait_for_status(node, "GET", path, 429, token))
    for _ in range(5):
        assert_blocked(gateway(node, "GET", path, token))
    delete_deny_policy(node, policy)
    spent = counted_in_window(ready(node, path, token))
    admitted(node, path, token, 3 - spent)
    assert_refused(gateway(node, "GET", path, token), 429, 900804)
