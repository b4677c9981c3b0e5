// Triggers and rules with the npm `openwhisk` client, as an application or a
// tool built on it (serverless-openwhisk, wskdeploy-like scripts) uses them:
// create, read, list and update a trigger, link it to an action with a rule,
// fire it, follow the trigger's activation record to the action's, disable and
// enable the rule, the refusals, then delete everything.
// tests/e2e/test_openwhisk_client_events.py runs it against `whiskrun serve` and
// checks what it prints: one JSON object with what each call returned (or, for
// calls expected to fail, the OpenWhiskError's statusCode, message and error body).
//
//   __OW_API_HOST=http://127.0.0.1:3233 __OW_API_KEY=<uuid:key> node events.js
'use strict'

const openwhisk = require('openwhisk')

const ow = openwhisk({ apihost: process.env.__OW_API_HOST, api_key: process.env.__OW_API_KEY })
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const ACTION = 'ev-echo'
const TRIGGER = 'ev-trigger'
const RULE = 'ev-rule'
// Returns what it is given: the trigger's parameters, the fire's payload, __ow_headers.
const ECHO = 'def main(args):\n    return args\n'

// A call that must be refused: what the client's OpenWhiskError carries.
async function refusal (promise) {
  try {
    const value = await promise
    return { unexpectedSuccess: value === undefined ? '(undefined)' : value }
  } catch (error) {
    return { name: error.name, statusCode: error.statusCode, message: error.message, error: error.error }
  }
}

// What a call resolved to, as JSON can show it: its JavaScript type too, since a
// text or empty body does not come back as an object.
function shown (value) {
  const type = value === null ? 'null' : Buffer.isBuffer(value) ? 'Buffer' : typeof value
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : value === undefined ? null : value
  return { type, value: text }
}

// The record is 404 until it is stored (a trigger's once its rules' actions were
// started, an action's once it has ended).
async function waitForActivation (activationId, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs
  let polls = 0
  for (;;) {
    polls += 1
    try {
      const record = await ow.activations.get({ activationId })
      return { polls, record }
    } catch (error) {
      if (error.statusCode !== 404 || Date.now() > deadline) throw error
      await sleep(100)
    }
  }
}

// A fire's trigger record, and the record of the action activation its (only) rule line names.
async function followFire (accepted) {
  const trigger = await waitForActivation(accepted.activationId)
  const lines = trigger.record.logs.map((line) => JSON.parse(line))
  const action = lines.length === 1 && lines[0].activationId
    ? await waitForActivation(lines[0].activationId)
    : null
  return { trigger: trigger.record, action: action && action.record }
}

async function main () {
  const out = {}
  out.createAction = await ow.actions.create({ name: ACTION, kind: 'python:3.11', action: ECHO })

  // A trigger with two parameters; annotations as the client's object shorthand.
  out.createTrigger = await ow.triggers.create({
    name: TRIGGER,
    annotations: { note: 'made by events.js' },
    trigger: { parameters: [{ key: 'name', value: 'Trigger' }, { key: 'place', value: 'trigger' }] }
  })
  out.createTriggerAgain = await refusal(ow.triggers.create({ name: TRIGGER }))
  out.getTrigger = await ow.triggers.get({ name: TRIGGER })
  out.listTriggers = await ow.triggers.list()
  out.countTriggers = await ow.triggers.list({ count: true })
  // An update (overwrite=true): new parameters; the annotations, absent, stay.
  out.updateTrigger = await ow.triggers.update({
    name: TRIGGER,
    trigger: { parameters: [{ key: 'name', value: 'Trigger' }, { key: 'place', value: 'updated' }] }
  })

  // The rule: the client qualifies both names (/_/name) and sends only {action, trigger}.
  out.createRule = await ow.rules.create({ name: RULE, trigger: TRIGGER, action: ACTION })
  out.getRule = await ow.rules.get({ name: RULE })
  out.listRules = await ow.rules.list()
  out.countRules = await ow.rules.list({ count: true })
  out.triggerWithRule = await ow.triggers.get({ name: TRIGGER })

  // Fire (the client's triggers.invoke): 202 {activationId}; the action runs after it.
  out.fired = await ow.triggers.invoke({ name: TRIGGER, params: { name: 'Fired', extra: 1 } })
  out.firedRecords = await followFire(out.fired)

  // Disabled: the rule's status, and a fire with no active rule (204, no body, no record).
  out.disable = shown(await ow.rules.disable({ name: RULE }))
  out.disableAgain = shown(await ow.rules.disable({ name: RULE }))
  out.getRuleDisabled = await ow.rules.get({ name: RULE })
  out.firedDisabled = shown(await ow.triggers.invoke({ name: TRIGGER, params: { name: 'Nobody' } }))
  out.enable = shown(await ow.rules.enable({ name: RULE }))
  out.getRuleEnabled = await ow.rules.get({ name: RULE })
  // Enabled again, a fire without a payload: the action gets the trigger's parameters.
  out.firedAgain = await ow.triggers.invoke({ name: TRIGGER })
  out.firedAgainRecords = await followFire(out.firedAgain)
  out.triggerActivations = await ow.activations.list({ name: TRIGGER })

  // Refusals.
  out.ruleForMissingTrigger = await refusal(ow.rules.create({ name: 'ev-bad', trigger: 'nope', action: ACTION }))
  out.ruleForMissingAction = await refusal(ow.rules.create({ name: 'ev-bad', trigger: TRIGGER, action: 'nope' }))
  out.ruleAgain = await refusal(ow.rules.create({ name: RULE, trigger: TRIGGER, action: ACTION }))
  out.fireMissing = await refusal(ow.triggers.invoke({ name: 'nope', params: {} }))

  // Delete: the rule (answered inactive), then the trigger, then the action.
  out.deleteRule = await ow.rules.delete({ name: RULE })
  out.triggerAfterRuleDelete = await ow.triggers.get({ name: TRIGGER })
  out.deleteTrigger = await ow.triggers.delete({ name: TRIGGER })
  out.getDeletedTrigger = await refusal(ow.triggers.get({ name: TRIGGER }))
  out.getDeletedRule = await refusal(ow.rules.get({ name: RULE }))
  out.deleteAction = (await ow.actions.delete({ name: ACTION })).name
  out.triggersAfter = await ow.triggers.list()
  out.rulesAfter = await ow.rules.list()

  console.log(JSON.stringify(out))
}

main().catch((error) => {
  console.error(`events failed: ${error.message}`)
  if (error.error) console.error(JSON.stringify(error.error))
  console.error(error.stack)
  process.exit(1)
})
