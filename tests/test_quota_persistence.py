"""Day and month quotas of an all-in-one node survive a restart (docs/throttling.md, "Counters
across restarts"): the in-process gateway's windows of an hour or longer are written to the
node's database (SQLite or PostgreSQL) every traffic.flush_seconds and once more when the node
stops, and read back before the gateway serves again. Windows shorter than an hour are not
kept: a restart gives a per-minute tier a fresh count.

Windows are aligned to the epoch (UTC days): a test starts with at least two minutes left in
the current day and in the current minute's half, so that no window ends under it."""

import time

import pytest

from gateway_support import (Caller, backend_fixture, counted_in_window, create_policy,
                             error_code, gateway, publish_api, request_limit, wait_for,
                             wait_for_status, wait_for_window)

DAY = 86400
LONG_WINDOW_MS = 3_600_000

echo_backend = backend_fixture("quota-persistence")


def subscribed(node, api, tier: str) -> tuple[str, str, list[tuple[float, float]]]:
    """A caller subscribed to `api` with `tier`: its token, the API's path and when the one
    call that found the gateway admitting it ran (that call counts)."""
    caller = Caller(node)
    caller.subscribe(api, tier)
    token = caller.token()
    path = f"{api['context']}/1.0.0/pets"
    start = time.time()
    wait_for_status(node, "GET", path, 200, token)
    return token, path, [(start, time.time())]


def spend(node, path: str, token: str, admitted_before: int, limit: int) -> None:
    """Calls until the tier refuses; exactly `limit` calls are admitted in all."""
    statuses = [gateway(node, "GET", path, token).status_code
                for _ in range(limit - admitted_before + 1)]
    assert statuses == [200] * (limit - admitted_before) + [429], statuses


def assert_quota_spent(response) -> None:
    assert response.status_code == 429, response.text
    assert error_code(response) == 900804, response.text
    assert response.json()["message"] == "Subscription level throttled out"


def day_and_minute_callers(node, echo_backend):
    """An API offering a tier of 3 requests a day and one of 3 a minute (both stopping on
    quota reach), a caller on each, the day tier spent; and when the minute caller's probe
    ran."""
    wait_for_window(DAY, margin=120)
    day = create_policy(node, "subscription", request_limit(3, "day"), stopOnQuotaReach=True)
    minute = create_policy(node, "subscription", request_limit(3, "min"), stopOnQuotaReach=True)
    api = publish_api(node, echo_backend.url,
                      policies=[day["policyName"], minute["policyName"], "Unlimited"])
    day_token, path, _ = subscribed(node, api, day["policyName"])
    minute_token, _, minute_probe = subscribed(node, api, minute["policyName"])
    spend(node, path, day_token, 1, 3)
    return path, day_token, minute_token, minute_probe


def test_a_spent_day_quota_stays_spent_across_a_restart(launcher, echo_backend):
    # Only the flush on stop can store the count: the periodic one would come in an hour.
    node = launcher.new(sections={"traffic": {"flush_seconds": 3600}})
    path, day_token, minute_token, minute_probe = day_and_minute_callers(node, echo_backend)
    # The minute tier spent too, with at least half of its minute still ahead.
    counted = counted_in_window(minute_probe, 60, margin=30)
    minute_start = time.time() // 60 * 60
    spend(node, path, minute_token, counted, 3)

    node.restart()
    assert node.count("quota_windows", f"window_ms >= {LONG_WINDOW_MS} AND used >= 3") >= 1
    assert node.count("quota_windows", f"window_ms < {LONG_WINDOW_MS}") == 0

    # The per-minute count started afresh (same minute, not kept): the gateway serves the API
    # again; the day's count was restored before it did.
    wait_for_status(node, "GET", path, 200, minute_token)
    assert time.time() < minute_start + 60, "the restart outlasted the minute under test"
    assert_quota_spent(gateway(node, "GET", path, day_token))


def test_counts_flushed_while_serving_survive_a_crash(launcher, echo_backend):
    node = launcher.new(sections={"traffic": {"flush_seconds": 1}})
    path, day_token, minute_token, _ = day_and_minute_callers(node, echo_backend)
    # Written by the periodic flush, before anything stops the node.
    wait_for(lambda: node.count("quota_windows", "used >= 3") >= 1)

    node.kill()  # SIGKILL: no flush on stop
    node.start()
    wait_for_status(node, "GET", path, 200, minute_token)
    assert_quota_spent(gateway(node, "GET", path, day_token))
