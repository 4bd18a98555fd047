"""Self sign-up at the reference's /api/identity/user/v1.0/me: on by default, switchable off,
and the new user is a subscriber who can use the developer portal and nothing more."""

import uuid

from devportal_support import DEVPORTAL, SIGNUP, Developer, error_body, signup_body


def test_signup_creates_a_subscriber_who_can_use_the_portal(node):
    name = "alice" + uuid.uuid4().hex[:6]
    response = node.post(SIGNUP, json=signup_body(name))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["username"] == name
    assert "password" not in body["user"]
    dev = Developer(node, name)
    assert dev.get("/applications").status_code == 200


def test_signed_up_user_cannot_use_admin_operations(node):
    name = "bob" + uuid.uuid4().hex[:6]
    assert node.post(SIGNUP, json=signup_body(name)).status_code == 201
    response = node.get("/api/am/admin/v4/throttling/policies/application",
                        auth=(name, "dev-password-1"))
    assert response.status_code == 403


def test_roles_in_the_body_are_ignored(node):
    name = "mallory" + uuid.uuid4().hex[:6]
    body = signup_body(name, roles=["admin"])
    body["roles"] = ["admin"]
    assert node.post(SIGNUP, json=body).status_code == 201
    response = node.get("/api/am/admin/v4/throttling/policies/application",
                        auth=(name, "dev-password-1"))
    assert response.status_code == 403


def test_taken_username_is_409(node):
    name = "carol" + uuid.uuid4().hex[:6]
    assert node.post(SIGNUP, json=signup_body(name)).status_code == 201
    response = node.post(SIGNUP, json=signup_body(name, password="another-password"))
    assert response.status_code == 409
    error_body(response)


def test_weak_password_and_bad_bodies_are_400(node):
    assert node.post(SIGNUP, json=signup_body("dave" + uuid.uuid4().hex[:6],
                                              password="abc")).status_code == 400
    assert node.post(SIGNUP, json={"user": {"username": "x"}}).status_code == 400
    assert node.post(SIGNUP, data="not json",
                     headers={"Content-Type": "application/json"}).status_code == 400
    assert node.post(SIGNUP, json={"user": {"username": "eve1", "password": "long-enough",
                                            "realm": "OTHER"}}).status_code == 400
    error_body(node.post(SIGNUP, json=[]))


def test_signup_can_be_switched_off(launcher):
    node = launcher.new(sections={"security": {"self_signup": False}})
    response = node.post(SIGNUP, json=signup_body("frank"))
    assert response.status_code == 403
    error_body(response)
    assert node.count("users", "username = 'frank'") == 0
    # The administrator can still use the portal.
    assert node.get(DEVPORTAL + "/applications", auth=node.admin_auth).status_code == 200
