#!/usr/bin/env bash
# Deploys every sample in this folder with the real `wsk` CLI, invokes each
# once and prints what comes back. Re-runnable: `wsk action update` creates
# an action or replaces it, and the alarm and the API route it makes at the
# end are deleted again before it ends.
#
#   ./deploy.sh                 # against ~/.wskprops, else wskprops.example
#   WSK_CLI=/opt/bin/wsk ./deploy.sh
#
# The wsk commands, in the order they run (from this folder). The test suite
# replays the HTTP requests they send, so keep this list and the script in step:
#
#   wsk action update hello hello.py
#   wsk action update hello-js hello.js
#   wsk action update hello-sh hello.sh --native
#   wsk action update heavy heavy_init.py -m 512
#   wsk action update python-zip build/python-zip.zip --kind python:3.11
#   wsk action update split sequence/split.js --kind nodejs:18
#   wsk action update sort sequence/sort.py --kind python:3.11
#   wsk action update words --sequence split,sort
#   wsk action update greet web/greet.py --web true
#   wsk action list
#   wsk action invoke hello -r -p name World
#   wsk action invoke hello-js -r -p name World
#   wsk action invoke hello-sh -r -p name World
#   wsk action invoke heavy -r -p key 7
#   wsk action invoke python-zip -r -p name World -p bytes 1500000
#   wsk action invoke words -r -p text "the quick brown fox jumps over the lazy dog"
#   wsk action invoke greet -r -p name World
#   wsk action get greet --url
#   (not wsk: curl "<that url>.http/fr?name=Ada", the web action over plain HTTP)
#   wsk action invoke hello -b -p name World
#   wsk activation list --limit 10
#   wsk activation logs --last
#   wsk trigger update hello-trigger -p name Trigger
#   wsk rule update hello-rule hello-trigger hello
#   wsk rule enable hello-rule
#   wsk trigger fire hello-trigger -p name Fired
#   wsk rule get hello-rule
#   wsk trigger list
#   wsk rule list
#   (not in a fresh run: wsk trigger delete every-3s, quietly, if an earlier run stopped half-way)
#   wsk trigger create every-3s --feed /whisk.system/alarms/alarm -p cron "*/3 * * * * *" -p trigger_payload "{\"name\":\"Alarm\"}"
#   wsk rule update every-3s-rule every-3s hello
#   wsk api create /hello /greet get greet --response-type json
#   wsk api list
#   wsk api get /hello
#   (not wsk: curl "<the URL wsk api create printed>?name=Ada", the route over plain HTTP)
#   (not wsk: sleep 4, while the alarm fires every 3 seconds)
#   wsk activation list every-3s --limit 3
#   wsk trigger get every-3s
#   wsk trigger delete every-3s
#   wsk rule delete every-3s-rule
#   wsk api delete /hello
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

# 1. The zip first: it is a build product, not in git, and a later step needs it.
./python-zip/build.sh

# 2. The CLI. It cannot be installed on the whiskrun development machines
#    (no package carries it), which is why the tests replay its requests.
WSK_CLI=${WSK_CLI:-wsk}
if ! command -v "$WSK_CLI" >/dev/null 2>&1; then
  cat >&2 <<EOF

deploy.sh: the OpenWhisk CLI '$WSK_CLI' is not on PATH, so nothing was deployed.
  Get a wsk binary from https://github.com/apache/openwhisk-cli/releases and put
  it on PATH (or run WSK_CLI=/path/to/wsk $0).
  Without wsk, deploy.js deploys the same actions with the npm client 'openwhisk'
  (see README.md in $here). The zip is built: $here/build/python-zip.zip
EOF
  exit 127
fi
wsk() { "$WSK_CLI" "$@"; }

# 3. Where the API is: the user's own settings win; otherwise the example
#    (whiskrun serve on localhost:3233 with the guest key).
if [[ -z ${WSK_CONFIG_FILE:-} && ! -f ~/.wskprops ]]; then
  export WSK_CONFIG_FILE=$here/wskprops.example
  echo "No ~/.wskprops: using $WSK_CONFIG_FILE"
fi

# Echo each command as typed (quoting arguments with spaces), then run it.
run() {
  local shown=() arg
  for arg in "$@"; do
    [[ $arg == *[[:space:]]* ]] && arg="\"$arg\""
    shown+=("$arg")
  done
  printf '\n$ %s\n' "${shown[*]}"
  "$@"
}

# 4. Deploy. Components go before the sequence: it may only name actions
#    that exist.
run wsk action update hello hello.py
run wsk action update hello-js hello.js
run wsk action update hello-sh hello.sh --native
run wsk action update heavy heavy_init.py -m 512
run wsk action update python-zip build/python-zip.zip --kind python:3.11
run wsk action update split sequence/split.js --kind nodejs:18
run wsk action update sort sequence/sort.py --kind python:3.11
run wsk action update words --sequence split,sort
run wsk action update greet web/greet.py --web true
run wsk action list

# 5. Invoke; -r waits and prints only the result.
run wsk action invoke hello -r -p name World
run wsk action invoke hello-js -r -p name World
run wsk action invoke hello-sh -r -p name World
run wsk action invoke heavy -r -p key 7
run wsk action invoke python-zip -r -p name World -p bytes 1500000
run wsk action invoke words -r -p text "the quick brown fox jumps over the lazy dog"
run wsk action invoke greet -r -p name World

# A web action is also reachable without credentials, at the URL wsk reports
# (its last line of output).
printf '\n$ wsk action get greet --url\n'
url=$(wsk action get greet --url | tail -n 1)
echo "$url"
if command -v curl >/dev/null 2>&1; then
  run curl -sS -i "$url.http/fr?name=Ada"  # -i: statusCode and headers show up
  echo
else
  echo "(curl is not installed; open $url.http/fr?name=Ada in a browser)"
fi

# 6. The activation records: -b prints the whole record (annotations show
#    waitTime, and initTime on a cold start), then the newest activations and
#    the logs of the last one (the hello above prints its greeting).
run wsk action invoke hello -b -p name World
run wsk activation list --limit 10
run wsk activation logs --last

# 7. Events: a trigger with a default parameter, and a rule that runs hello
#    whenever it fires (last, so that each action's first activation above is
#    still the invoke that shows its cold start). `rule update` links the rule
#    active; `rule enable` makes sure of it if it was disabled since. A fire
#    answers with the trigger's activation id at once: the rule's hello runs
#    after it, non-blocking, with the fire's parameters over the trigger's
#    (name: Fired, not Trigger). `wsk activation get <that id>` shows which
#    activation of hello the rule started; `wsk activation poll` follows both.
run wsk trigger update hello-trigger -p name Trigger
run wsk rule update hello-rule hello-trigger hello
run wsk rule enable hello-rule
run wsk trigger fire hello-trigger -p name Fired
run wsk rule get hello-rule
run wsk trigger list
run wsk rule list

# 8. An alarm: a trigger fed by /whisk.system/alarms/alarm fires on a cron
#    schedule, here every 3 seconds (6 fields: seconds first, as node-cron and
#    openwhisk-package-alarms read them), with trigger_payload as the fire's
#    parameters; every-3s-rule runs hello on each fire ("Hello Alarm!").
#    `--feed` makes wsk invoke the feed action with lifecycleEvent CREATE after
#    creating the trigger (-p goes to the feed, not onto the trigger); if the
#    feed refuses (e.g. a bad cron), wsk deletes the trigger again. There is
#    no `trigger update --feed`, and create refuses an existing trigger, so
#    the script deletes the alarm at its end (and first, quietly, in case an
#    earlier run stopped before that).
wsk trigger delete every-3s >/dev/null 2>&1 || true
run wsk trigger create every-3s --feed /whisk.system/alarms/alarm -p cron "*/3 * * * * *" \
  -p trigger_payload "{\"name\":\"Alarm\"}"
run wsk rule update every-3s-rule every-3s hello

# 9. An API route (while the alarm fires): the web action greet, exposed at
#    GET <base>/hello/greet through the API gateway's createApi. wsk prints the
#    managed URL, http://<host>/api/<the key's uuid>/hello/greet, as its last
#    line; no credentials needed. --response-type json: the route answers
#    greet's whole result as JSON (statusCode, headers, body). A second
#    create of the same route replaces it.
printf '\n$ wsk api create /hello /greet get greet --response-type json\n'
created=$(wsk api create /hello /greet get greet --response-type json)
echo "$created"
route=$(tail -n 1 <<<"$created")
run wsk api list
run wsk api get /hello
if command -v curl >/dev/null 2>&1; then
  run curl -sS -i "$route?name=Ada"
  echo
else
  echo "(curl is not installed; open $route?name=Ada in a browser)"
fi

# 10. The alarm's fires: each is a trigger activation whose logs name the
#     activation of hello the rule started (`wsk activation get <id>`, then
#     `wsk activation result <the activationId in its logs>`). `trigger get`
#     of a trigger with a feed invokes the feed with READ: the alarm's config
#     (cron, payload) and status. `trigger delete` invokes it with DELETE
#     (the schedule stops) and then deletes the trigger; the rule goes too,
#     and so does the route.
sleep 4
run wsk activation list every-3s --limit 3
run wsk trigger get every-3s
run wsk trigger delete every-3s
run wsk rule delete every-3s-rule
run wsk api delete /hello
