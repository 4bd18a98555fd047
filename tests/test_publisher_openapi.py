"""Publisher v4 OpenAPI: import (file and inline, 2.0 and 3.0, JSON and YAML), validation,
GET/PUT swagger, and broken definitions that must create nothing."""

from __future__ import annotations

import json

import pytest

from publisher_support import (DATA, assert_error, call, create_api, import_openapi, multipart,
                               new_name)


def read(name: str) -> str:
    return (DATA / name).read_text()


def petstore_with_own_scopes(prefix: str) -> str:
    """The petstore definition with scopes of its own: a scope name belongs to one API."""
    return (read("petstore-3.0.yaml").replace("pets:read", f"{prefix}:read")
            .replace("pets:write", f"{prefix}:write"))


def ops(api: dict) -> set[tuple[str, str]]:
    return {(o["verb"], o["target"]) for o in api["operations"]}


def test_import_openapi_30_yaml_with_path_parameters_and_scopes(node):
    name = new_name("Petstore")
    response = import_openapi(node, read("petstore-3.0.yaml"), "petstore.yaml", name=name,
                              version="1.0.0", context="/" + name.lower(),
                              policies=["Gold"])
    assert response.status_code == 201, response.text
    api = response.json()
    assert api["lifeCycleStatus"] == "CREATED" and api["provider"] == "admin"
    assert ops(api) == {("GET", "/pets"), ("POST", "/pets"), ("GET", "/pets/{petId}"),
                        ("DELETE", "/pets/{petId}"), ("GET", "/pets/{petId}/visits/{visitId}")}
    by_op = {(o["verb"], o["target"]): o["scopes"] for o in api["operations"]}
    assert by_op[("POST", "/pets")] == ["pets:write"]
    assert by_op[("GET", "/pets/{petId}/visits/{visitId}")] == ["pets:read"]  # root security
    scopes = {s["scope"]["name"]: s["scope"] for s in api["scopes"]}
    assert set(scopes) == {"pets:read", "pets:write"}
    assert scopes["pets:write"]["bindings"] == ["admin", "creator"]
    swagger = call(node, "GET", f"/apis/{api['id']}/swagger")
    assert swagger.status_code == 200
    assert swagger.json()["info"]["title"] == "Petstore"
    assert "/pets/{petId}" in swagger.json()["paths"]


def test_import_swagger_20_json_inline_takes_name_and_context_from_the_definition(node):
    definition = json.loads(read("orders-2.0.json"))
    definition["info"]["title"] = new_name("Orders")
    definition["basePath"] = "/" + definition["info"]["title"].lower()
    response = call(node, "POST", "/apis/import-openapi",
                    files=multipart({"inlineAPIDefinition": json.dumps(definition)}))
    assert response.status_code == 201, response.text
    api = response.json()
    assert api["name"] == definition["info"]["title"]
    assert api["version"] == "2.1.0"
    assert api["context"] == definition["basePath"]
    assert api["description"] == "Order intake and tracking"
    assert ops(api) == {("GET", "/"), ("POST", "/"), ("GET", "/{orderId}"),
                        ("DELETE", "/{orderId}"), ("GET", "/{orderId}/items/{itemId}")}
    by_op = {(o["verb"], o["target"]): o["scopes"] for o in api["operations"]}
    assert by_op[("DELETE", "/{orderId}")] == ["orders_admin"]
    assert by_op[("POST", "/")] == []


def test_import_reference_extensions_and_plain_30_json(node):
    inventory = read("inventory-2.0.yaml").replace("/inventory/1.0",
                                                    "/" + new_name("inventory"))
    response = import_openapi(node, inventory, "inventory.yaml", name=new_name("Inventory"))
    assert response.status_code == 201, response.text
    api = response.json()
    assert api["operations"][0]["scopes"] == ["inventory_view"]
    assert api["scopes"][0]["scope"]["bindings"] == ["admin", "subscriber"]
    weather = import_openapi(node, read("weather-3.0.json"), "weather.json",
                             name=new_name("Weather"), context="/" + new_name("weather"))
    assert weather.status_code == 201, weather.text
    assert ops(weather.json()) == {("GET", "/forecast/{city}"), ("GET", "/alerts")}


@pytest.mark.parametrize("document, fragment", [
    ("broken-undeclared-param.yaml", "not declared"),
    ("broken-syntax.yaml", "not valid"),
])
def test_broken_definitions_are_refused_with_their_problems_and_create_nothing(
        node, document, fragment):
    before = node.count("apis")
    response = import_openapi(node, read(document), document, name=new_name(),
                              context="/" + new_name(), version="1")
    body = assert_error(response, 400)
    messages = [e["message"] for e in body["error"]]
    assert any(fragment in m for m in messages), messages
    if document == "broken-undeclared-param.yaml":
        assert any("info.version" in m for m in messages)
        assert any("missing_scheme" in m for m in messages)
        assert any("'things'" in m for m in messages)
    assert node.count("apis") == before


def test_import_errors(node):
    assert_error(call(node, "POST", "/apis/import-openapi", json={"a": 1}), 400)
    assert_error(call(node, "POST", "/apis/import-openapi",
                      files=multipart({"url": "https://example.com/api.yaml"})), 400)
    assert_error(call(node, "POST", "/apis/import-openapi",
                      files=multipart({"other": "x"})), 400)
    # The API fields still follow the publisher's rules.
    response = import_openapi(node, read("weather-3.0.json"), "w.json", name="bad/name")
    assert_error(response, 400)
    # Importing the same name and version twice conflicts.
    name = new_name("Twice")
    assert import_openapi(node, read("weather-3.0.json"), "w.json", name=name,
                          context="/" + name.lower()).status_code == 201
    assert_error(import_openapi(node, read("weather-3.0.json"), "w.json", name=name,
                                context="/" + name.lower()), 409)


def test_validate_openapi(node):
    response = call(node, "POST", "/apis/validate-openapi",
                    files={"file": ("orders.json", read("orders-2.0.json").encode())})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["isValid"] is True
    assert body["info"]["name"] == "Orders"
    assert body["info"]["version"] == "2.1.0"
    assert body["info"]["context"] == "/orders"
    assert body["info"]["openAPIVersion"] == "2.0"
    assert body["info"]["endpoints"] == ["https://orders.example.com/orders"]
    response = call(node, "POST", "/apis/validate-openapi",
                    files=multipart({"inlineAPIDefinition": read("broken-undeclared-param.yaml")}))
    assert response.status_code == 200
    body = response.json()
    assert body["isValid"] is False and len(body["errors"]) >= 3
    assert node.count("apis", "name = 'Orders'") == 0


def test_swagger_of_an_api_created_without_one_is_generated(node):
    api = create_api(node, scopes=[{"scope": {"name": new_name("s"), "bindings": []}}])
    scope = api["scopes"][0]["scope"]["name"]
    call(node, "PUT", f"/apis/{api['id']}",
         json={"operations": [{"target": "/items/{id}", "verb": "GET", "scopes": [scope]}]})
    swagger = call(node, "GET", f"/apis/{api['id']}/swagger").json()
    assert swagger["openapi"].startswith("3.0")
    item = swagger["paths"]["/items/{id}"]["get"]
    assert item["parameters"][0]["name"] == "id"
    assert item["security"] == [{"default": [scope]}]


def test_put_swagger_replaces_operations_and_scopes(node):
    api = create_api(node)
    definition = petstore_with_own_scopes(api["name"])
    response = call(node, "PUT", f"/apis/{api['id']}/swagger",
                    files=multipart({"apiDefinition": definition}))
    assert response.status_code == 200, response.text
    assert response.json()["info"]["title"] == "Petstore"
    updated = call(node, "GET", f"/apis/{api['id']}").json()
    assert ("GET", "/pets/{petId}") in ops(updated)
    assert updated["name"] == api["name"]  # the definition's title does not rename the API
    broken = call(node, "PUT", f"/apis/{api['id']}/swagger",
                  files=multipart({"apiDefinition": read("broken-undeclared-param.yaml")}))
    assert_error(broken, 400)
    assert ops(call(node, "GET", f"/apis/{api['id']}").json()) == ops(updated)
    assert_error(call(node, "PUT", "/apis/00000000-0000-0000-0000-000000000000/swagger",
                      files=multipart({"apiDefinition": read("weather-3.0.json")})), 404)


def test_put_api_keeps_the_imported_definition_in_step_with_operations(node):
    name = new_name("Synced")
    api = import_openapi(node, petstore_with_own_scopes(name), "p.yaml", name=name,
                         context="/" + name.lower()).json()
    kept = [o for o in api["operations"] if o["verb"] != "DELETE"]
    kept.append({"target": "/owners/{ownerId}", "verb": "GET", "scopes": [f"{name}:read"]})
    response = call(node, "PUT", f"/apis/{api['id']}", json={"operations": kept})
    assert response.status_code == 200, response.text
    swagger = call(node, "GET", f"/apis/{api['id']}/swagger").json()
    assert "delete" not in swagger["paths"]["/pets/{petId}"]
    assert swagger["paths"]["/owners/{ownerId}"]["get"]["parameters"][0]["name"] == "ownerId"
    assert "Pet" in swagger["components"]["schemas"]  # the rest of the definition stays
    assert swagger["info"]["description"].startswith("Pets")
