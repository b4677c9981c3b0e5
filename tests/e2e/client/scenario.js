// One session of the npm `openwhisk` client against an OpenWhisk API, as an
// application or a tool built on it would use it. tests/e2e/test_openwhisk_client.py
// runs it against `whiskrun serve` and checks what it prints: one JSON object
// with what each call returned (or, for calls expected to fail, the
// OpenWhiskError's statusCode, message and error body).
//
//   __OW_API_HOST=http://127.0.0.1:3233 __OW_API_KEY=<uuid:key> node scenario.js
'use strict'

const fs = require('fs')
const path = require('path')
const openwhisk = require('openwhisk')

const ow = openwhisk({ apihost: process.env.__OW_API_HOST, api_key: process.env.__OW_API_KEY })
const samples = path.join(__dirname, '..', '..', '..', 'wsk-samples')
const source = (file) => fs.readFileSync(path.join(samples, file), 'utf8')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// A call that must be refused: what the client's OpenWhiskError carries.
async function refusal (promise) {
  try {
    const value = await promise
    return { unexpectedSuccess: value }
  } catch (error) {
    return { name: error.name, statusCode: error.statusCode, message: error.message, error: error.error }
  }
}

// A non-blocking caller's loop: the record is 404 until the activation has ended.
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

async function main () {
  const out = {}
  out.namespaces = await ow.namespaces.list()

  // Create: a Python action (kind given) and a Node.js one (the client's default kind).
  out.createPy = await ow.actions.create({ name: 'sc-hello-py', action: source('hello.py'), kind: 'python:default' })
  out.createJs = await ow.actions.create({ name: 'sc-hello-js', action: source('hello.js') })
  out.createAgain = await refusal(ow.actions.create({ name: 'sc-hello-py', action: source('hello.py'), kind: 'python:default' }))
  // A zip as a Buffer: the client sends it base64-encoded.
  out.createZip = await ow.actions.create({
    name: 'sc-zip', kind: 'python:3.11', action: fs.readFileSync(path.join(samples, 'build', 'python-zip.zip'))
  })

  // Update without code: parameters and annotations; the version goes up, the code stays.
  out.updatePy = await ow.actions.update({ name: 'sc-hello-py', params: { name: 'bound' }, annotations: { note: 'updated' } })
  out.get = await ow.actions.get({ name: 'sc-hello-py' })
  out.getNoCode = await ow.actions.get({ name: 'sc-hello-py', code: false })
  out.list = await ow.actions.list()
  out.count = await ow.actions.list({ count: true })
  out.namespaceGet = await ow.namespaces.get()

  // Invoke: blocking with result, blocking with the record, non-blocking then polled.
  out.resultPy = await ow.actions.invoke({ name: 'sc-hello-py', blocking: true, result: true })
  out.resultPyParams = await ow.actions.invoke({ name: 'sc-hello-py', params: { name: 'Ada' }, blocking: true, result: true })
  out.recordJsFirst = await ow.actions.invoke({ name: 'sc-hello-js', params: { name: 'World' }, blocking: true })
  out.recordJsSecond = await ow.actions.invoke({ name: 'sc-hello-js', params: { name: 'Again' }, blocking: true })
  out.accepted = await ow.actions.invoke({ name: 'sc-hello-js', params: { name: 'Later' } })
  out.polled = await waitForActivation(out.accepted.activationId)
  out.resultZip = await ow.actions.invoke({ name: 'sc-zip', params: { name: 'Zip', bytes: 2048 }, blocking: true, result: true })

  // Activations: list (summaries; full records with docs), logs, result.
  out.activations = await ow.activations.list({ name: 'sc-hello-js', limit: 5 })
  out.activationsDocs = await ow.activations.list({ name: 'sc-hello-js', limit: 1, docs: true })
  out.activationCount = await ow.activations.list({ name: 'sc-hello-js', count: true })
  out.logs = await ow.activations.logs({ activationId: out.accepted.activationId })
  out.result = await ow.activations.result({ activationId: out.accepted.activationId })

  // A code update of the Node.js action: a new version, run in a new container.
  out.updateJs = await ow.actions.update({ name: 'sc-hello-js', action: source('hello.js').replace('Hello', 'Hi') })
  out.recordJsUpdated = await ow.actions.invoke({ name: 'sc-hello-js', params: { name: 'World' }, blocking: true })

  // A sequence across languages; the client needs fully qualified component names.
  await ow.actions.create({ name: 'sc-split', action: source('sequence/split.js'), kind: 'nodejs:18' })
  await ow.actions.create({ name: 'sc-sort', action: source('sequence/sort.py'), kind: 'python:3.11' })
  out.createSequence = await ow.actions.create({ name: 'sc-words', sequence: ['/_/sc-split', '/_/sc-sort'] })
  out.resultSequence = await ow.actions.invoke({ name: 'sc-words', params: { text: 'b c a' }, blocking: true, result: true })
  out.recordSequence = await ow.actions.invoke({ name: 'sc-words', params: { text: 'y x' }, blocking: true })
  out.failedSequence = await refusal(ow.actions.invoke({ name: 'sc-words', blocking: true }))

  // A failing action: 502, the activation record as the error body.
  await ow.actions.create({ name: 'sc-fail', kind: 'python:3.11', action: "def main(args):\n    raise ValueError('boom')\n" })
  out.failed = await refusal(ow.actions.invoke({ name: 'sc-fail', blocking: true }))
  out.failedResult = await refusal(ow.actions.invoke({ name: 'sc-fail', blocking: true, result: true }))
  out.missing = await refusal(ow.actions.invoke({ name: 'sc-not-there', blocking: true }))

  // Delete everything this scenario made.
  const names = ['sc-hello-py', 'sc-hello-js', 'sc-zip', 'sc-words', 'sc-split', 'sc-sort', 'sc-fail']
  out.deleted = []
  for (const name of names) out.deleted.push((await ow.actions.delete({ name })).name)
  out.getDeleted = await refusal(ow.actions.get({ name: 'sc-hello-py' }))
  out.deleteAgain = await refusal(ow.actions.delete({ name: 'sc-hello-py' }))
  out.listAfter = (await ow.actions.list()).map((action) => action.name)

  console.log(JSON.stringify(out))
}

main().catch((error) => {
  console.error(`scenario failed: ${error.message}`)
  if (error.error) console.error(JSON.stringify(error.error))
  console.error(error.stack)
  process.exit(1)
})
