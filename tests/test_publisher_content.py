"""Publisher v4 documents, thumbnails and the API-level subscription view with blocking, on
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from publisher_support import (assert_error, call, create_api, create_user, insert_subscription,
                               multipart)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'


@pytest.fixture(scope="module")
def api(node):
    return create_api(node)


def doc_body(**fields) -> dict:
    body = {"name": "Getting started", "type": "HOWTO", "sourceType": "INLINE",
            "summary": "How to begin", "visibility": "API_LEVEL"}
    body.update(fields)
    return body


def test_document_lifecycle_inline(node, api):
    base = f"/apis/{api['id']}/documents"
    response = call(node, "POST", base, json=doc_body(inlineContent="# Hello", documentId="x"))
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["documentId"] != "x"
    assert doc["createdBy"] == "admin"
    listed = call(node, "GET", base).json()
    assert listed["count"] == 1 and listed["list"][0]["documentId"] == doc["documentId"]
    content = call(node, "GET", f"{base}/{doc['documentId']}/content")
    assert content.status_code == 200 and content.text == "# Hello"
    uploaded = call(node, "POST", f"{base}/{doc['documentId']}/content",
                    files=multipart({"inlineContent": "new text"}))
    assert uploaded.status_code == 201, uploaded.text
    assert call(node, "GET", f"{base}/{doc['documentId']}/content").text == "new text"
    updated = call(node, "PUT", f"{base}/{doc['documentId']}",
                   json=doc_body(name="Start here", summary="s2"))
    assert updated.status_code == 200, updated.text
    assert call(node, "GET", f"{base}/{doc['documentId']}").json()["name"] == "Start here"
    assert_error(call(node, "POST", base, json=doc_body(name="Start here")), 409)
    assert call(node, "DELETE", f"{base}/{doc['documentId']}").status_code == 200
    assert_error(call(node, "GET", f"{base}/{doc['documentId']}"), 404)


def test_url_and_file_documents(node, api):
    base = f"/apis/{api['id']}/documents"
    url_doc = call(node, "POST", base, json=doc_body(name="Forum", type="PUBLIC_FORUM",
                                                     sourceType="URL",
                                                     sourceUrl="https://forum.example/x"))
    assert url_doc.status_code == 201, url_doc.text
    content = call(node, "GET", f"{base}/{url_doc.json()['documentId']}/content")
    assert content.status_code == 303
    assert content.headers["Location"] == "https://forum.example/x"
    file_doc = call(node, "POST", base, json=doc_body(name="Spec", type="OTHER",
                                                      otherTypeName="Spec", sourceType="FILE"))
    assert file_doc.status_code == 201, file_doc.text
    doc_id = file_doc.json()["documentId"]
    uploaded = call(node, "POST", f"{base}/{doc_id}/content",
                    files={"file": ("spec.pdf", b"%PDF-1.4 binary\x00\x01", "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["fileName"] == "spec.pdf"
    got = call(node, "GET", f"{base}/{doc_id}/content")
    assert got.status_code == 200
    assert got.content == b"%PDF-1.4 binary\x00\x01"
    assert got.headers["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("fields, fragment", [
    ({"type": "NOVEL"}, "type"),
    ({"sourceType": "FTP"}, "sourceType"),
    ({"sourceType": "URL", "sourceUrl": "javascript:alert(1)"}, "sourceUrl"),
    ({"type": "OTHER"}, "otherTypeName"),
    ({"name": ""}, "name"),
    ({"name": "x" * 61}, "name"),
    ({"visibility": "EVERYONE"}, "visibility"),
])
def test_document_validation(node, api, fields, fragment):
    before = node.count("api_documents")
    error = assert_error(call(node, "POST", f"/apis/{api['id']}/documents",
                              json=doc_body(**fields)), 400)
    assert fragment in error["description"], error
    assert node.count("api_documents") == before


def test_document_errors_and_authorization(node, api):
    base = f"/apis/{api['id']}/documents"
    assert_error(call(node, "GET", "/apis/00000000-0000-0000-0000-000000000000/documents"), 404)
    assert_error(call(node, "GET", f"{base}/nope"), 404)
    subscriber = create_user(node, ["subscriber"])
    assert_error(call(node, "POST", base, auth=subscriber, json=doc_body(name="S")), 403)
    url_doc = call(node, "POST", base, json=doc_body(name="Link", sourceType="URL",
                                                     sourceUrl="https://a.example")).json()
    assert_error(call(node, "POST", f"{base}/{url_doc['documentId']}/content",
                      files=multipart({"inlineContent": "x"})), 400)


@pytest.mark.parametrize("data, media_type", [(PNG, "image/png"), (GIF, "image/gif"),
                                              (JPEG, "image/jpeg"), (SVG, "image/svg+xml")])
def test_thumbnail_round_trip(node, data, media_type):
    api = create_api(node)
    path = f"/apis/{api['id']}/thumbnail"
    assert_error(call(node, "GET", path), 404)
    response = call(node, "PUT", path, files={"file": ("t.bin", data, "application/x-anything")})
    assert response.status_code == 200, response.text
    got = call(node, "GET", path)
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["Content-Type"] == media_type
    assert call(node, "GET", f"/apis/{api['id']}").json()["hasThumbnail"] is True


def test_thumbnail_type_and_size_are_checked(node, api):
    path = f"/apis/{api['id']}/thumbnail"
    assert_error(call(node, "PUT", path, files={"file": ("x.png", b"MZ\x90\x00not an image",
                                                         "image/png")}), 400)
    big = PNG + b"\x00" * (1024 * 1024)
    response = call(node, "PUT", path, files={"file": ("big.png", big, "image/png")})
    assert response.status_code in (413, 400), response.text
    assert_error(call(node, "PUT", path, json={"file": "x"}), 400)
    assert_error(call(node, "PUT", "/apis/00000000-0000-0000-0000-000000000000/thumbnail",
                      files={"file": ("t.png", PNG)}), 404)


def test_subscriptions_of_an_api_and_blocking(node):
    api = create_api(node)
    sub_id = insert_subscription(node, api["id"])
    other = create_api(node)
    insert_subscription(node, other["id"])
    listed = call(node, "GET", "/subscriptions", params={"apiId": api["id"]})
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["count"] == 1 and body["pagination"]["total"] == 1
    sub = body["list"][0]
    assert sub["subscriptionId"] == sub_id
    assert sub["subscriptionStatus"] == "UNBLOCKED"
    assert sub["throttlingPolicy"] == "Gold"
    assert sub["applicationInfo"]["subscriber"] == "dev1"
    assert sub["applicationInfo"]["description"] == "an app"

    response = call(node, "POST", "/subscriptions/block-subscription",
                    params={"subscriptionId": sub_id, "blockState": "PROD_ONLY_BLOCKED"})
    assert response.status_code == 200, response.text
    assert node.count("subscriptions",
                      f"id = '{sub_id}' AND status = 'PROD_ONLY_BLOCKED'") == 1
    assert call(node, "POST", "/subscriptions/block-subscription",
                params={"subscriptionId": sub_id, "blockState": "BLOCKED"}).status_code == 200
    listed = call(node, "GET", "/subscriptions", params={"apiId": api["id"]}).json()
    assert listed["list"][0]["subscriptionStatus"] == "BLOCKED"
    assert call(node, "POST", "/subscriptions/unblock-subscription",
                params={"subscriptionId": sub_id}).status_code == 200
    assert node.count("subscriptions", f"id = '{sub_id}' AND status = 'UNBLOCKED'") == 1

    assert_error(call(node, "POST", "/subscriptions/block-subscription",
                      params={"subscriptionId": sub_id, "blockState": "FROZEN"}), 400)
    assert_error(call(node, "POST", "/subscriptions/block-subscription",
                      params={"subscriptionId": "nope", "blockState": "BLOCKED"}), 404)
    assert_error(call(node, "GET", "/subscriptions",
                      params={"apiId": "00000000-0000-0000-0000-000000000000"}), 404)
    creator = create_user(node, ["creator"])
    assert call(node, "GET", "/subscriptions", auth=creator,
                params={"apiId": api["id"]}).status_code == 200
    assert_error(call(node, "POST", "/subscriptions/block-subscription", auth=creator,
                      params={"subscriptionId": sub_id, "blockState": "BLOCKED"}), 403)
