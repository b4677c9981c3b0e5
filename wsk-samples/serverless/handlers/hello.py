"""hello: Python 3.11. As a web action behind the API route (`http` event) it
also gets `__ow_method`; fired by the trigger it gets the trigger's and the
fire's parameters."""


def main(params):
    name = params.get("name", "World")
    print(f"greeting {name}")
    answer = {"greeting": f"Hello {name}!", "runtime": "python:3.11"}
    if "__ow_method" in params:
        answer["method"] = params["__ow_method"]
    return answer
