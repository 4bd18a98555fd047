"""Admin v4 throttling policies: seeded defaults, CRUD on the three levels, validation,
uniqueness, policies in use, authorization."""

import pytest

from admin_support import (admin, create_user, execute, insert_api, insert_application,
                           new_name, request_count_limit, subscription_statement)

LEVELS = ["subscription", "application", "advanced"]


def names(node, level):
    response = admin(node, "GET", f"/throttling/policies/{level}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["list"])
    return {p["policyName"]: p for p in body["list"]}


def test_defaults_of_the_reference_are_seeded(node):
    subscription = names(node, "subscription")
    assert {"Bronze", "Silver", "Gold", "Unlimited"} <= subscription.keys()
    limits = {n: subscription[n]["defaultLimit"]["requestCount"]["requestCount"]
              for n in ("Bronze", "Silver", "Gold")}
    assert limits == {"Bronze": 1000, "Silver": 2000, "Gold": 5000}
    assert subscription["Gold"]["defaultLimit"]["requestCount"]["timeUnit"] == "min"
    assert subscription["Gold"]["type"] == "SubscriptionThrottlePolicy"
    assert {"10PerMin", "20PerMin", "50PerMin", "Unlimited"} <= names(node, "application").keys()
    advanced = names(node, "advanced")
    assert {"10KPerMin", "20KPerMin", "50KPerMin", "Unlimited"} <= advanced.keys()
    assert advanced["10KPerMin"]["defaultLimit"]["requestCount"]["requestCount"] == 10000


@pytest.mark.parametrize("level", LEVELS)
def test_create_get_update_delete(node, level):
    name = new_name("P")
    body = {"policyName": name, "displayName": "Mine", "description": "test",
            "defaultLimit": request_count_limit(42), "policyId": "chosen-by-client",
            "isDeployed": False}
    created = admin(node, "POST", f"/throttling/policies/{level}", json=body)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["policyId"] != "chosen-by-client"
    assert policy["policyName"] == name
    assert policy["defaultLimit"]["requestCount"]["requestCount"] == 42
    assert created.headers["Location"].endswith(policy["policyId"])

    path = f"/throttling/policies/{level}/{policy['policyId']}"
    assert admin(node, "GET", path).json() == policy

    body["defaultLimit"] = {"type": "BANDWIDTHLIMIT", "bandwidth": {
        "timeUnit": "hour", "unitTime": 2, "dataAmount": 500, "dataUnit": "MB"}}
    updated = admin(node, "PUT", path, json=body)
    assert updated.status_code == 200, updated.text
    assert updated.json()["defaultLimit"]["bandwidth"]["dataAmount"] == 500
    assert admin(node, "GET", path).json()["defaultLimit"]["type"] == "BANDWIDTHLIMIT"

    assert admin(node, "DELETE", path).status_code == 200
    missing = admin(node, "GET", path)
    assert missing.status_code == 404
    assert missing.json()["code"] == 404
    assert admin(node, "DELETE", path).status_code == 404


def test_subscription_policy_fields(node):
    body = {"policyName": new_name("S"), "defaultLimit": request_count_limit(100),
            "rateLimitCount": 10, "rateLimitTimeUnit": "sec", "stopOnQuotaReach": True,
            "billingPlan": "COMMERCIAL", "customAttributes": [{"name": "a", "value": "b"}],
            "subscriberCount": 99}
    created = admin(node, "POST", "/throttling/policies/subscription", json=body)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert (policy["rateLimitCount"], policy["rateLimitTimeUnit"]) == (10, "sec")
    assert policy["stopOnQuotaReach"] is True
    assert policy["billingPlan"] == "COMMERCIAL"
    assert policy["customAttributes"] == [{"name": "a", "value": "b"}]
    assert "subscriberCount" not in policy


def test_advanced_policy_with_conditional_groups(node):
    conditions = [
        {"type": "HEADERCONDITION", "invertCondition": False,
         "headerCondition": {"headerName": "X-Tier", "headerValue": "gold"}},
        {"type": "QUERYPARAMETERCONDITION",
         "queryParameterCondition": {"parameterName": "q", "parameterValue": "1"}},
        {"type": "IPCONDITION", "invertCondition": True,
         "ipCondition": {"ipConditionType": "IPRANGE", "startingIP": "10.0.0.1",
                         "endingIP": "10.0.0.200"}},
        {"type": "IPCONDITION", "ipCondition": {"ipConditionType": "IPSPECIFIC",
                                                "specificIP": "2001:db8::7"}},
        {"type": "JWTCLAIMSCONDITION",
         "jwtClaimsCondition": {"claimUrl": "http://wso2.org/claims/role", "attribute": "x"}},
    ]
    body = {"policyName": new_name("A"), "defaultLimit": request_count_limit(1000),
            "conditionalGroups": [{"description": "g", "conditions": conditions,
                                   "limit": request_count_limit(10)}]}
    created = admin(node, "POST", "/throttling/policies/advanced", json=body)
    assert created.status_code == 201, created.text
    group = created.json()["conditionalGroups"][0]
    assert [c["type"] for c in group["conditions"]] == [c["type"] for c in conditions]
    assert group["conditions"][2]["invertCondition"] is True
    assert group["conditions"][0]["invertCondition"] is False
    # Listed as the reference's AdvancedThrottlePolicyInfo (no groups); GET by id has them.
    listed = names(node, "advanced")[body["policyName"]]
    assert "conditionalGroups" not in listed
    policy_id = created.json()["policyId"]
    fetched = admin(node, "GET", f"/throttling/policies/advanced/{policy_id}").json()
    assert fetched["conditionalGroups"] == created.json()["conditionalGroups"]


@pytest.mark.parametrize("body, field", [
    ({"defaultLimit": request_count_limit(1)}, "policyName"),
    ({"policyName": "X"}, "defaultLimit"),
    ({"policyName": "bad name!", "defaultLimit": request_count_limit(1)}, "policyName"),
    ({"policyName": "X", "defaultLimit": request_count_limit(0)}, "requestCount"),
    ({"policyName": "X", "defaultLimit": request_count_limit(5, "fortnight")}, "timeUnit"),
    ({"policyName": "X", "defaultLimit": {"type": "BANDWIDTHLIMIT", "bandwidth": {
        "timeUnit": "min", "unitTime": 1, "dataAmount": 1, "dataUnit": "PB"}}}, "dataUnit"),
    ({"policyName": "X", "defaultLimit": {"type": "REQUESTCOUNTLIMIT"}}, "requestCount"),
    ({"policyName": "X", "defaultLimit": request_count_limit(1), "rateLimitCount": 5},
     "rateLimitTimeUnit"),
    ({"policyName": "X", "defaultLimit": request_count_limit(1), "rateLimitCount": -1},
     "rateLimitCount"),
])
def test_invalid_subscription_policies_are_400(node, body, field):
    before = node.count("throttling_policies")
    response = admin(node, "POST", "/throttling/policies/subscription", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == 400 and error["message"] == "Bad Request"
    assert field in error["description"]
    assert node.count("throttling_policies") == before


@pytest.mark.parametrize("condition", [
    {"type": "IPCONDITION", "ipCondition": {"ipConditionType": "IPSPECIFIC",
                                            "specificIP": "10.0.0.300"}},
    {"type": "IPCONDITION", "ipCondition": {"ipConditionType": "IPRANGE",
                                            "startingIP": "10.0.0.9", "endingIP": "10.0.0.1"}},
    {"type": "HEADERCONDITION", "headerCondition": {"headerName": "X"}},
    {"type": "SOMETHING"},
])
def test_invalid_advanced_conditions_are_400(node, condition):
    body = {"policyName": new_name("A"), "defaultLimit": request_count_limit(1),
            "conditionalGroups": [{"conditions": [condition], "limit": request_count_limit(1)}]}
    response = admin(node, "POST", "/throttling/policies/advanced", json=body)
    assert response.status_code == 400, response.text
    assert "conditionalGroups[0]" in response.json()["description"]


def test_not_json_is_400(node):
    response = admin(node, "POST", "/throttling/policies/application", data="{not json",
                     headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_duplicate_name_is_409_per_level(node):
    assert admin(node, "POST", "/throttling/policies/subscription",
                 json={"policyName": "Gold", "defaultLimit": request_count_limit(1)}
                 ).status_code == 409
    # The same name on another level is another policy.
    name = new_name("Shared")
    for level in LEVELS:
        response = admin(node, "POST", f"/throttling/policies/{level}",
                         json={"policyName": name, "defaultLimit": request_count_limit(1)})
        assert response.status_code == 201, response.text


def test_name_cannot_change(node):
    gold = names(node, "subscription")["Gold"]
    response = admin(node, "PUT", f"/throttling/policies/subscription/{gold['policyId']}",
                     json={"policyName": "Platinum", "defaultLimit": request_count_limit(1)})
    assert response.status_code == 400
    assert names(node, "subscription")["Gold"]["defaultLimit"] == gold["defaultLimit"]


def create(node, level):
    response = admin(node, "POST", f"/throttling/policies/{level}",
                     json={"policyName": new_name("U"), "defaultLimit": request_count_limit(5)})
    assert response.status_code == 201, response.text
    return response.json()


def test_policies_in_use_cannot_be_deleted(node):
    subscribed = create(node, "subscription")
    offered = create(node, "subscription")
    app_policy = create(node, "application")
    api_level = create(node, "advanced")
    operation_level = create(node, "advanced")
    document = ('{"apiThrottlingPolicy":"' + api_level["policyName"] + '","operations":'
                '[{"target":"/x","verb":"GET","throttlingPolicy":"' +
                operation_level["policyName"] + '"}]}')
    api_id = insert_api(node, document, offered=(offered["policyName"],))
    app_id = insert_application(node, app_policy["policyName"])
    execute(node, subscription_statement(app_id, api_id, subscribed["policyName"]))

    for level, policy in [("subscription", subscribed), ("subscription", offered),
                          ("application", app_policy), ("advanced", api_level),
                          ("advanced", operation_level)]:
        response = admin(node, "DELETE", f"/throttling/policies/{level}/{policy['policyId']}")
        assert response.status_code == 409, (policy["policyName"], response.text)
        assert "in use" in response.json()["description"]
        assert admin(node, "GET",
                     f"/throttling/policies/{level}/{policy['policyId']}").status_code == 200


def test_subscriber_gets_403_and_no_credentials_401(node):
    user = create_user(node, ["subscriber"])
    auth = (user["userName"], user["password"])
    assert admin(node, "GET", "/throttling/policies/subscription", auth=auth).status_code == 403
    assert admin(node, "POST", "/throttling/policies/subscription", auth=auth,
                 json={"policyName": "Z", "defaultLimit": request_count_limit(1)}
                 ).status_code == 403
    response = admin(node, "GET", "/throttling/policies/subscription", auth=())
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    assert admin(node, "GET", "/throttling/policies/subscription",
                 auth=("admin", "wrong")).status_code == 401


def test_creator_may_view_but_not_manage(node):
    user = create_user(node, ["creator"])
    auth = (user["userName"], user["password"])
    assert admin(node, "GET", "/throttling/policies/advanced", auth=auth).status_code == 200
    assert admin(node, "POST", "/throttling/policies/advanced", auth=auth,
                 json={"policyName": "Z", "defaultLimit": request_count_limit(1)}
                 ).status_code == 403


def test_a_token_with_apim_admin_alone_is_enough(node):
    # The reference lists apim:admin beside each operation's own scope.
    client = node.register_client(grantType="password")
    response = node.token(client, {"grant_type": "password", "username": node.admin_auth[0],
                                   "password": node.admin_auth[1], "scope": "apim:admin"})
    assert response.status_code == 200, response.text
    bearer = {"Authorization": "Bearer " + response.json()["access_token"]}
    assert admin(node, "GET", "/throttling/policies/advanced", auth=(),
                 headers=bearer).status_code == 200
    assert admin(node, "GET", "/environments", auth=(), headers=bearer).status_code == 200


def test_oversized_body_is_413(node):
    body = {"policyName": "Big", "defaultLimit": request_count_limit(1),
            "description": "x" * 300_000}
    response = admin(node, "POST", "/throttling/policies/application", json=body)
    assert response.status_code == 413
    assert response.json()["code"] == 413
