"""API gateway routes: /whisk.system/apimgmt's createApi, getApi and
deleteApi as wsk, the npm client and serverless-openwhisk call them, with
upstream's swagger and messages (core/routemgmt), and the managed URLs that
invoke the routes' web actions (path templates, verbs, the secure key, CORS).
Actions run on the fake runner."""

import json
from typing import Any

import pytest

from tests.unit.api.conftest import ALICE_KEY, ECHO, GUEST_KEY, Api, basic, returning
from whiskrun.api.gateway import operation_id

APIMGMT = "/web/whisk.system/apimgmt"
UUID = GUEST_KEY.split(":")[0]


def web_action(api: Api, name: str = "hello", code: str = ECHO, **annotations: Any) -> None:
    marks = [{"key": "web-export", "value": True}] + [{"key": k.replace("_", "-"), "value": v}
                                                      for k, v in annotations.items()]
    api.create(name, code, annotations=marks)


def apidoc(base: str, path: str, verb: str, action: str, *, secure_key: str | None = None,
           **extra: Any) -> dict[str, Any]:
    """What `wsk api create` sends (commands/api.go, client-go api.go)."""
    action_doc = {"name": action, "namespace": "_", "backendMethod": verb,
                  "backendUrl": f"http://localhost:3233/api/v1/web/_/default/{action}.http", "authkey": GUEST_KEY}
    if secure_key:
        action_doc["secureKey"] = secure_key
    return {"namespace": "_", "gatewayBasePath": base, "gatewayPath": path, "gatewayMethod": verb,
            "id": f"API:_:{base}", "action": action_doc, **extra}


def create(api: Api, doc: dict[str, Any], *, responsetype: str = "json", key: str | None = GUEST_KEY, **query: str):
    return api.post(f"{APIMGMT}/createApi.http", key=key, json={"apidoc": doc},
                    query_string={"responsetype": responsetype, "accesstoken": "DUMMY TOKEN", "spaceguid": UUID,
                                  **query})


def test_create_builds_upstreams_swagger_and_answers_the_managed_url(api: Api) -> None:
    web_action(api)
    response = create(api, apidoc("/greet", "/hello", "GET", "hello"))
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert (answer["namespace"], answer["gwApiActivated"], answer["tenantId"]) == ("Not Used", True, "Not Used")
    assert answer["gwApiUrl"] == f"http://localhost/api/{UUID}/greet"
    swagger = answer["apidoc"]
    assert (swagger["swagger"], swagger["basePath"], swagger["info"]) == ("2.0", "/greet",
                                                                          {"title": "/greet", "version": "1.0.0"})
    operation = swagger["paths"]["/hello"]["get"]
    assert operation["operationId"] == "getHello"
    assert operation["x-openwhisk"] == {"url": "/api/v1/web/guest/default/hello.json", "namespace": "guest",
                                        "package": "", "action": "hello"}
    [case] = swagger["x-ibm-configuration"]["assembly"]["execute"][0]["operation-switch"]["case"]
    assert case == {"operations": ["getHello"],
                    "execute": [{"invoke": {"target-url": "/api/v1/web/guest/default/hello.json", "verb": "keep"}}]}
    assert swagger["x-ibm-configuration"]["cors"] == {"enabled": True}


@pytest.mark.parametrize(("verb", "path", "expected"), [
    ("GET", "/hello/world", "getHelloWorld"), ("post", "/books/{id}", "postBooksId"),
    ("PUT", "/a-b_c/d.e", "putA-b_cDE"),
])
def test_operation_ids_as_upstream_makes_them(verb: str, path: str, expected: str) -> None:
    assert operation_id(verb, path) == expected


def test_managed_url_invokes_the_web_action_with_verb_and_query(api: Api) -> None:
    web_action(api)
    create(api, apidoc("/greet", "/hello", "GET", "hello"))
    response = api.client.get(f"/api/{UUID}/greet/hello?name=Ada")  # a managed URL: no key
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert result["name"] == "Ada" and result["__ow_method"] == "get"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert api.client.post(f"/api/{UUID}/greet/hello").status_code == 405
    assert api.client.get(f"/api/{UUID}/greet/nothing").status_code == 404
    assert api.client.get("/api/00000000-0000-0000-0000-000000000000/greet/hello").status_code == 404


def test_an_http_route_with_a_path_parameter_and_a_secure_key(api: Api) -> None:
    web_action(api, "book", returning({"statusCode": 201, "headers": {"X-Book": "yes"}, "body": "stored"}),
               require_whisk_auth="s3cret")
    doc = apidoc("/library", "/books/{id}", "PUT", "book", secure_key="s3cret",
                 pathParameters=[{"name": "id", "in": "path", "required": True, "type": "string"}])
    answer = create(api, doc, responsetype="http").get_json()
    [case] = answer["apidoc"]["x-ibm-configuration"]["assembly"]["execute"][0]["operation-switch"]["case"]
    assert case["execute"][0]["invoke"]["target-url"] == "/api/v1/web/guest/default/book.http$(request.path)"
    assert case["execute"][1] == {"set-variable": {"actions": [
        {"set": "message.headers.X-Require-Whisk-Auth", "value": "s3cret"}]}}
    response = api.client.put(f"/api/{UUID}/library/books/7", data="x")
    assert (response.status_code, response.get_data(as_text=True)) == (201, "stored")
    assert response.headers["X-Book"] == "yes"
    [(_, invocation)] = [c for c in api.runner.calls if c[0].name == "book"]
    assert invocation.params["__ow_path"] == "/books/7"
    # The web action itself still wants the secret from anyone else.
    assert api.client.put("/api/v1/web/guest/default/book.http").status_code == 401


def test_get_lists_and_delete_removes_paths_then_the_api(api: Api) -> None:
    web_action(api)
    create(api, apidoc("/greet", "/hello", "GET", "hello", apiName="Greetings"))
    create(api, apidoc("/greet", "/bye", "POST", "hello"))
    listed = api.get(f"{APIMGMT}/getApi.http", query_string={"basepath": "/greet", "spaceguid": UUID}).get_json()
    [entry] = listed["apis"]
    assert (entry["id"], entry["key"]) == ("Not Used", "Not Used")
    assert set(entry["value"]["apidoc"]["paths"]) == {"/hello", "/bye"}
    assert entry["value"]["apidoc"]["info"]["title"] == "Greetings"
    by_name = api.get(f"{APIMGMT}/getApi.http", query_string={"basepath": "Greetings"}).get_json()
    assert len(by_name["apis"]) == 1
    assert api.get(f"{APIMGMT}/getApi.http").get_json()["apis"][0]["value"]["apidoc"]["basePath"] == "/greet"
    deleted = api.delete(f"{APIMGMT}/deleteApi.http", query_string={"basepath": "/greet", "relpath": "/bye",
                                                                     "operation": "POST"})
    assert (deleted.status_code, deleted.get_json()) == (200, {})
    assert api.client.post(f"/api/{UUID}/greet/bye").status_code == 404
    assert api.client.get(f"/api/{UUID}/greet/hello").status_code == 200
    assert api.delete(f"{APIMGMT}/deleteApi.http", query_string={"basepath": "/greet", "relpath": "/hello"}).status_code == 200
    assert api.get(f"{APIMGMT}/getApi.http").get_json() == {"apis": []}  # the last path took the API with it


def test_a_swagger_from_serverless_openwhisk_is_the_whole_api(api: Api) -> None:
    web_action(api, "fn", require_whisk_auth="k3y")
    swagger = {"swagger": "2.0", "basePath": "/svc", "info": {"title": "svc", "version": "1.0"},
               "paths": {"/items/{id}": {"get": {
                   "operationId": "getItemsId",
                   "x-openwhisk": {"namespace": "guest", "package": "default", "action": "fn",
                                   "url": "http://whatever/api/v1/web/guest/default/fn.http"},
                   "responses": {"200": {"description": "ok"}}}}},
               "x-ibm-configuration": {"assembly": {"execute": [{"operation-switch": {"case": [{
                   "operations": ["getItemsId"],
                   "execute": [{"invoke": {"target-url": "http://whatever/api/v1/web/guest/default/fn.http$(request.path)",
                                           "verb": "keep"}},
                               {"set-variable": {"actions": [{"set": "message.headers.X-Require-Whisk-Auth",
                                                              "value": "k3y"}]}}]}]}}]}}}
    response = api.post(f"{APIMGMT}/createApi", json={"apidoc": {"namespace": "_", "swagger": json.dumps(swagger)}})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["gwApiUrl"] == f"http://localhost/api/{UUID}/svc"
    api.runner.calls.clear()
    answer = api.client.get(f"/api/{UUID}/svc/items/42")
    assert answer.status_code in (200, 204), answer.get_data(as_text=True)
    [(_, invocation)] = api.runner.calls
    assert invocation.params["__ow_path"] == "/items/42"


@pytest.mark.parametrize(("body", "message"), [
    ({}, "apidoc is required."),
    ({"apidoc": "{"}, "apidoc field cannot be parsed. Ensure it is valid JSON."),
    ({"apidoc": 7}, "apidoc field is of type number and should be a JSON object or a JSON string."),
    ({"apidoc": {"gatewayBasePath": "/a"}}, "apidoc is missing the namespace field"),
    ({"apidoc": {"namespace": "_", "gatewayBasePath": "/a", "swagger": "{}"}},
     "swagger and gatewayBasePath are mutually exclusive and cannot be specified together."),
    ({"apidoc": {"namespace": "_", "swagger": "{not json"}}, "swagger field cannot be parsed. Ensure it is valid JSON."),
    ({"apidoc": {"namespace": "_", "swagger": {"paths": {}, "info": {}}}}, "swagger is missing the basePath field."),
    ({"apidoc": {"namespace": "_", "gatewayBasePath": "/a"}}, "apidoc is missing the gatewayPath field"),
    ({"apidoc": {"namespace": "_", "gatewayBasePath": "/a", "gatewayPath": "/b", "gatewayMethod": "GET"}},
     "apidoc is missing the action field."),
    ({"apidoc": {"namespace": "_", "gatewayBasePath": "/a", "gatewayPath": "/b", "gatewayMethod": "GET",
                 "action": {"name": "x"}}}, "action is missing the backendMethod field."),
])
def test_bad_apidocs_are_502_with_upstreams_message_and_store_nothing(api: Api, body: dict, message: str) -> None:
    response = api.post(f"{APIMGMT}/createApi.http", json=body)
    assert (response.status_code, response.get_json()) == (502, {"error": message})
    assert api.get(f"{APIMGMT}/getApi.http").get_json() == {"apis": []}


def test_without_a_valid_key_apimgmt_refuses(api: Api) -> None:
    response = create(api, apidoc("/a", "/b", "GET", "hello"), key=None)
    assert (response.status_code, response.get_json()) == (502, {"error": "A valid auth key is required."})
    response = api.client.post(f"/api/v1{APIMGMT}/createApi.http", headers=basic("nobody:nothing"),
                               json={"apidoc": apidoc("/a", "/b", "GET", "hello")})
    assert response.get_json() == {"error": "A valid auth key is required."}


def test_delete_refusals(api: Api) -> None:
    missing = api.delete(f"{APIMGMT}/deleteApi.http", query_string={"basepath": "/none"})
    assert (missing.status_code, missing.get_json()) == (502, {"error": "API '/none' does not exist."})
    assert api.delete(f"{APIMGMT}/deleteApi.http").get_json() == {"error": "basepath is required."}
    assert api.delete(f"{APIMGMT}/deleteApi.http", query_string={"basepath": "/a", "operation": "GET"}).get_json() == \
        {"error": "When specifying an operation, the path is required."}


def test_apis_are_per_namespace(api: Api) -> None:
    web_action(api)
    create(api, apidoc("/greet", "/hello", "GET", "hello"))
    assert api.get(f"{APIMGMT}/getApi.http", key=ALICE_KEY).get_json() == {"apis": []}
    alice_uuid = ALICE_KEY.split(":")[0]
    assert api.client.get(f"/api/{alice_uuid}/greet/hello").status_code == 404


def test_routes_survive_a_restart(make_api, tmp_path) -> None:
    first = make_api(data_dir=tmp_path / "kept")
    web_action(first)
    create(first, apidoc("/greet", "/hello", "GET", "hello"))
    first.close()
    second = make_api(data_dir=tmp_path / "kept")
    [entry] = second.get(f"{APIMGMT}/getApi.http").get_json()["apis"]
    assert entry["value"]["apidoc"]["basePath"] == "/greet"
    assert second.client.get(f"/api/{UUID}/greet/hello?name=Bo").get_json()["name"] == "Bo"
