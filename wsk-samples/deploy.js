#!/usr/bin/env node
// Deploys every sample in this folder with the npm `openwhisk` client (for
// machines without the `wsk` CLI), invokes each once as deploy.sh does, calls
// the web action over plain HTTP, and prints each result with the start path
// the activation took and its initTime / waitTime; then, as deploy.sh ends,
// links hello-trigger to hello with hello-rule, fires it and follows the
// trigger's activation to the activation of hello it caused; makes an alarm
// (every-3s, fed by /whisk.system/alarms/alarm) run hello through a rule and
// waits for a fire; routes GET /hello/greet to the web action greet through the
// API gateway and calls its managed URL; and deletes the alarm and the route
// again. Re-runnable: it updates, and removes what it made at its end.
//
//   (cd ../tests/e2e/client && npm ci)          # or anywhere: npm install openwhisk
//   NODE_PATH=../tests/e2e/client/node_modules node deploy.js [--json]
//
// The API: __OW_API_HOST and __OW_API_KEY, else http://localhost:3233 (whiskrun
// serve, OpenWhisk standalone) with OpenWhisk's standard guest key.
// --json prints one JSON document instead of the table.
'use strict'

const fs = require('fs')
const path = require('path')
const { execFileSync } = require('child_process')

let openwhisk
try {
  openwhisk = require('openwhisk')
} catch (error) {
  console.error('deploy.js: the npm package `openwhisk` is not installed. Run `npm ci` in ' +
    'tests/e2e/client and set NODE_PATH=../tests/e2e/client/node_modules, or `npm install openwhisk`.')
  process.exit(1)
}

const GUEST_KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP'
const apihost = process.env.__OW_API_HOST || 'http://localhost:3233'
const apiKey = process.env.__OW_API_KEY || GUEST_KEY
const asJson = process.argv.includes('--json')
const here = __dirname
const ow = openwhisk({ apihost, api_key: apiKey })
const source = (file) => fs.readFileSync(path.join(here, file), 'utf8')
const say = (line) => { if (!asJson) console.log(line) }

// 1. The zip carries its dependency (humanize); build.sh makes it, as deploy.sh does.
const zip = path.join(here, 'build', 'python-zip.zip')
if (!fs.existsSync(zip)) {
  say('building build/python-zip.zip with python-zip/build.sh')
  execFileSync(path.join(here, 'python-zip', 'build.sh'), { stdio: ['ignore', 'ignore', 'inherit'] })
}

// 2. The actions, as deploy.sh's `wsk action update` lines create them. Components
//    go before the sequence, which the client needs fully qualified (/_/name).
const ACTIONS = [
  { name: 'hello', action: source('hello.py'), kind: 'python:default' },
  { name: 'hello-js', action: source('hello.js'), kind: 'nodejs:default' },
  // --native: a blackbox action on OpenWhisk's skeleton image, spelled out.
  { name: 'hello-sh', action: { exec: { kind: 'blackbox', image: 'openwhisk/dockerskeleton', code: source('hello.sh') } } },
  { name: 'heavy', action: source('heavy_init.py'), kind: 'python:default', limits: { memory: 512 } },
  { name: 'python-zip', action: fs.readFileSync(zip), kind: 'python:3.11' }, // a Buffer is sent base64-encoded
  { name: 'split', action: source('sequence/split.js'), kind: 'nodejs:18' },
  { name: 'sort', action: source('sequence/sort.py'), kind: 'python:3.11' },
  { name: 'words', sequence: ['/_/split', '/_/sort'] },
  // --web true: these three annotations.
  { name: 'greet', action: source('web/greet.py'), kind: 'python:default', annotations: { 'web-export': true, 'raw-http': false, final: true } }
]

// 3. The invocations of deploy.sh, then hello once more: a warm start this time.
const INVOKES = [
  ['hello', { name: 'World' }],
  ['hello-js', { name: 'World' }],
  ['hello-sh', { name: 'World' }],
  ['heavy', { key: 7 }],
  ['python-zip', { name: 'World', bytes: 1500000 }],
  ['words', { text: 'the quick brown fox jumps over the lazy dog' }],
  ['greet', { name: 'World' }],
  ['hello', { name: 'World' }]
]

// 4. The events of deploy.sh: a trigger with a default parameter, a rule from it to hello,
//    and a fire whose parameters win over the trigger's (hello greets Fired, not Trigger).
const TRIGGER = { name: 'hello-trigger', trigger: { parameters: [{ key: 'name', value: 'Trigger' }] } }
const RULE = { name: 'hello-rule', trigger: 'hello-trigger', action: 'hello' } // the client qualifies both: /_/name
const FIRE = { name: 'hello-trigger', params: { name: 'Fired' } }

// 5. The alarm of deploy.sh: a trigger with the alarm feed's annotation (as `wsk trigger
//    create --feed` makes it), the feed invoked with CREATE and the cron (6 fields, seconds
//    first: every 3 s) and the payload each fire carries; a rule runs hello on each fire.
const ALARM_FEED = '/whisk.system/alarms/alarm'
const ALARM = { name: 'every-3s', trigger: { annotations: [{ key: 'feed', value: ALARM_FEED }] } }
const ALARM_PARAMS = { cron: '*/3 * * * * *', trigger_payload: { name: 'Alarm' } }
const ALARM_RULE = { name: 'every-3s-rule', trigger: 'every-3s', action: 'hello' }
const feedOf = (trigger) => ({ name: ALARM_FEED, trigger })

// 6. The API route of deploy.sh (`wsk api create /hello /greet get greet --response-type json`).
const ROUTE = { basepath: '/hello', relpath: '/greet', operation: 'GET', action: 'greet', responsetype: 'json' }

const annotation = (record, key) => (record.annotations || []).find((a) => a.key === key)?.value
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// A record is 404 until it is stored: a trigger's once its rules' actions were
// started, an action's once it has ended.
async function waitForActivation (activationId, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await ow.activations.get({ activationId })
    } catch (error) {
      if (error.statusCode !== 404 || Date.now() > deadline) throw error
      await sleep(200)
    }
  }
}

// The alarm's trigger records (newest first) until one names an activation of hello,
// which is then waited for: the alarm fired with the rule linked (at most 3 s apart).
async function waitForFire (trigger, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const records = await ow.activations.list({ name: trigger, docs: true, limit: 10 })
    const fired = records.find((record) => (record.logs || []).length > 0)
    if (fired) return { record: fired, outcome: JSON.parse(fired.logs[0]) }
    if (Date.now() > deadline) throw new Error(`${trigger} did not fire within ${timeoutMs} ms`)
    await sleep(200)
  }
}

// What an earlier run that stopped half-way may have left; "not there" is the usual answer.
const quietly = (promise) => promise.catch((error) => { if (!error.statusCode) throw error })

// A blocking invoke answers with the activation record; a failed action (HTTP 502)
// rejects with the record as the error body.
async function invoke (name, params) {
  let record
  try {
    record = await ow.actions.invoke({ name, params, blocking: true })
  } catch (error) {
    if (!error.error || !error.error.activationId) throw error
    record = error.error
  }
  return summarize(record)
}

async function summarize (record) {
  const summary = {
    name: record.name,
    activationId: record.activationId,
    status: record.response.status,
    result: record.response.result,
    startPath: annotation(record, 'startPath') ?? null,
    initTime: annotation(record, 'initTime') ?? null,
    waitTime: annotation(record, 'waitTime') ?? null,
    duration: record.duration
  }
  if (annotation(record, 'kind') === 'sequence') {
    // A sequence runs no container of its own: show where each component started.
    const stored = await ow.activations.get({ activationId: record.activationId })
    summary.startPath = 'sequence'
    summary.components = []
    for (const id of stored.logs) {
      const component = await ow.activations.get({ activationId: id })
      summary.components.push({
        name: component.name,
        startPath: annotation(component, 'startPath') ?? null,
        initTime: annotation(component, 'initTime') ?? null,
        waitTime: annotation(component, 'waitTime') ?? null
      })
    }
  }
  return summary
}

function describe (summary) {
  const ms = (value) => (value === null || value === undefined ? '-' : `${value} ms`)
  const parts = summary.components
    ? summary.components.map((c) => `${c.name}: ${c.startPath}, init ${ms(c.initTime)}, wait ${ms(c.waitTime)}`)
    : [`init ${ms(summary.initTime)}`, `wait ${ms(summary.waitTime)}`]
  return `${summary.name.padEnd(11)} ${String(summary.startPath).padEnd(8)} ${parts.join('; ')}\n` +
    `            ${summary.status}: ${JSON.stringify(summary.result)}`
}

async function main () {
  say(`API ${apihost}`)
  const [namespace] = await ow.namespaces.list()
  const deployed = []
  for (const options of ACTIONS) {
    const action = await ow.actions.update(options)
    deployed.push({ name: action.name, version: action.version, kind: action.exec.kind })
    say(`updated ${action.name} (${action.exec.kind}, version ${action.version})`)
  }

  say('')
  const invoked = []
  for (const [name, params] of INVOKES) {
    const summary = await invoke(name, params)
    invoked.push(summary)
    say(describe(summary))
  }

  // The web action needs no key: plain HTTP to /api/v1/web/<namespace>/default/greet.
  const url = `${apihost.replace(/\/+$/, '')}/api/v1/web/${encodeURIComponent(namespace)}/default/greet.http/fr?name=Ada`
  const answer = await fetch(url)
  const web = { url, status: answer.status, contentType: answer.headers.get('content-type'), body: await answer.json() }
  say(`\nGET ${url}\n  ${web.status} ${web.contentType} ${JSON.stringify(web.body)}`)

  // The trigger and the rule (`update`: created, or replaced on a second run; the rule
  // is linked active, enable makes sure of it), then a fire: 202 with the trigger's
  // activation id at once, and hello runs after it through the rule.
  say('')
  const trigger = await ow.triggers.update(TRIGGER)
  say(`updated trigger ${trigger.name} (version ${trigger.version})`)
  const rule = await ow.rules.update(RULE)
  await ow.rules.enable({ name: rule.name }) // the client resolves to the text body, OK
  const linked = await ow.rules.get({ name: rule.name })
  say(`updated rule ${linked.name} (version ${linked.version}): ${linked.trigger.name} -> ${linked.action.name}, ${linked.status}`)
  const fired = await ow.triggers.invoke(FIRE)
  const record = await waitForActivation(fired.activationId)
  say(`fired ${trigger.name} ${JSON.stringify(FIRE.params)}: trigger activation ${fired.activationId}`)
  const rules = []
  for (const line of record.logs) {
    const outcome = JSON.parse(line) // {"statusCode":0,"success":true,"activationId":...,"rule":...,"action":...}
    const entry = { rule: outcome.rule, action: outcome.action, success: outcome.success }
    if (outcome.activationId) {
      entry.activation = await summarize(await waitForActivation(outcome.activationId))
      say(`  rule ${outcome.rule} started ${outcome.action}: activation ${outcome.activationId}`)
      say(describe(entry.activation))
    } else {
      entry.error = outcome.error
      say(`  rule ${outcome.rule} did not start ${outcome.action}: ${outcome.error}`)
    }
    rules.push(entry)
  }
  const events = {
    trigger: { name: trigger.name, version: trigger.version, parameters: trigger.parameters },
    rule: { name: linked.name, version: linked.version, status: linked.status, trigger: linked.trigger, action: linked.action },
    fired: { activationId: fired.activationId, payload: record.response.result, rules }
  }

  // The alarm: trigger, feed (CREATE), rule; it fires every 3 s from now on. A trigger create
  // refuses an existing trigger, so anything an earlier run left goes first.
  say('')
  await quietly(ow.feeds.delete(feedOf(ALARM.name)))
  await quietly(ow.triggers.delete({ name: ALARM.name }))
  const alarmTrigger = await ow.triggers.create(ALARM)
  const registered = await ow.feeds.create({ ...feedOf(ALARM.name), params: ALARM_PARAMS })
  say(`created trigger ${alarmTrigger.name} with feed ${ALARM_FEED} ${JSON.stringify(ALARM_PARAMS)}: ` +
    JSON.stringify(registered.response.result))
  const alarmRule = await ow.rules.update(ALARM_RULE)
  say(`updated rule ${alarmRule.name}: ${alarmRule.trigger.name} -> ${alarmRule.action.name}, ${alarmRule.status}`)

  // The route (while the alarm fires): createApi answers the API's managed base URL; the
  // route is that plus its path, reachable without a key.
  const created = await ow.routes.create(ROUTE)
  const routeUrl = `${created.gwApiUrl.replace(/\/+$/, '')}${ROUTE.relpath}`
  say(`created API ${ROUTE.basepath}${ROUTE.relpath} ${ROUTE.operation} for action ${ROUTE.action}: ${routeUrl}`)
  const listed = await ow.routes.list()
  const routes = listed.apis.flatMap((api) => Object.entries(api.value.apidoc.paths).flatMap(([relpath, verbs]) =>
    Object.entries(verbs).map(([verb, operation]) => ({
      basepath: api.value.apidoc.basePath, relpath, verb, action: operation['x-openwhisk'].action
    }))))
  say(`routes: ${routes.map((r) => `${r.verb.toUpperCase()} ${r.basepath}${r.relpath} -> ${r.action}`).join(', ')}`)
  const called = await fetch(`${routeUrl}?name=Ada`)
  const routeAnswer = { status: called.status, contentType: called.headers.get('content-type'), body: await called.json() }
  say(`GET ${routeUrl}?name=Ada\n  ${routeAnswer.status} ${routeAnswer.contentType} ${JSON.stringify(routeAnswer.body)}`)

  // A fire of the alarm and the activation of hello its rule started; the feed's READ (the
  // alarm's config and status); then the feed's DELETE (the schedule stops), the trigger,
  // the rule and the route go.
  const fire = await waitForFire(ALARM.name)
  const alarmActivation = await summarize(await waitForActivation(fire.outcome.activationId))
  say(`${ALARM.name} fired ${JSON.stringify(fire.record.response.result)}: trigger activation ${fire.record.activationId}`)
  say(`  rule ${fire.outcome.rule} started ${fire.outcome.action}: activation ${fire.outcome.activationId}`)
  say(describe(alarmActivation))
  const read = (await ow.feeds.get(feedOf(ALARM.name))).response.result
  say(`feed READ: cron ${read.config.cron}, payload ${JSON.stringify(read.config.payload)}, active ${read.status.active}`)
  const unregistered = await ow.feeds.delete(feedOf(ALARM.name))
  await ow.triggers.delete({ name: ALARM.name })
  await ow.rules.delete({ name: ALARM_RULE.name })
  say(`deleted the feed (${JSON.stringify(unregistered.response.result)}), trigger ${ALARM.name} and rule ${ALARM_RULE.name}`)
  await ow.routes.delete({ basepath: ROUTE.basepath })
  const afterDelete = (await fetch(`${routeUrl}?name=Ada`)).status
  const left = (await ow.routes.list()).apis
  say(`deleted API ${ROUTE.basepath}: GET ${routeUrl} now ${afterDelete}, ${left.length} APIs left`)

  const alarm = {
    trigger: { name: alarmTrigger.name, annotations: alarmTrigger.annotations },
    created: registered.response.result,
    rule: { name: alarmRule.name, status: alarmRule.status, trigger: alarmRule.trigger, action: alarmRule.action },
    fired: { activationId: fire.record.activationId, payload: fire.record.response.result, rule: fire.outcome.rule,
      action: fire.outcome.action, activation: alarmActivation },
    read,
    deleted: unregistered.response.result
  }
  const route = {
    gwApiUrl: created.gwApiUrl, basePath: created.apidoc.basePath, paths: created.apidoc.paths, url: routeUrl,
    routes, answer: routeAnswer, afterDelete, left: left.length
  }
  if (asJson) console.log(JSON.stringify({ apihost, namespace, deployed, invoked, web, events, alarm, route }, null, 2))
}

main().catch((error) => {
  console.error(`deploy.js: ${error.message}`)
  process.exit(1)
})
