"""One benchmark client in its own process (so that it does not share the
server's interpreter lock): blocking invokes on one keep-alive connection.

    python bench/api_client.py HOST PORT PATH AUTH COUNT START_AT

Waits until the wall clock reaches START_AT (so that parallel clients start
together), then prints {"latencies_ms": [...], "errors": [...], "began": t, "ended": t}.
"""

import base64
import http.client
import json
import sys
import time


def main() -> None:
    host, port, path, auth, count, start_at = sys.argv[1:7]
    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode(),
               "Content-Type": "application/json"}
    body = json.dumps({"hello": "world"})
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    latencies, errors = [], []
    connection.request("POST", path, body, headers)  # connect and warm up before the start
    connection.getresponse().read()
    while time.time() < float(start_at):
        time.sleep(0.001)
    began = time.time()
    for _ in range(int(count)):
        mark = time.perf_counter()
        try:
            connection.request("POST", path, body, headers)
            answer = connection.getresponse()
            answer.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(repr(exc))
            connection.close()
            connection = http.client.HTTPConnection(host, int(port), timeout=60)
            continue
        if answer.status == 200:
            latencies.append((time.perf_counter() - mark) * 1000)
        else:
            errors.append(f"HTTP {answer.status}")
    print(json.dumps({"latencies_ms": latencies, "errors": errors, "began": began, "ended": time.time()}))


if __name__ == "__main__":
    main()
