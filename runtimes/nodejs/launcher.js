'use strict';
/*
 * The Node.js action loop: load the action once, then serve activations over pipes.
 *
 * Started by the action proxy at /init with --action-dir, --main, optionally
 * --source (plain source), and --result-fd. Answers {"ok": true} or
 * {"error": ...} on the result descriptor once the action is loaded; then for
 * each JSON line on stdin ({"id", "value", "env"}) calls the entry point and
 * answers one line with the same id. Lines are handled as they arrive, so
 * overlapping activations work when the proxy allows them
 * (__OW_ALLOW_CONCURRENT=true).
 *
 * Semantics follow OpenWhisk's Node.js runtime: plain source may declare
 * `function main` or assign `global.main`/`exports.main`; a zip resolves
 * `fn` through package.json `main` or index.js and `file.fn.x` through that
 * file; `return;` gives {}; a throw is a 502 "An error has occurred: ...";
 * a rejected promise is an application error {"error": ...}.
 */
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const vm = require('vm');

const INIT_FAILED = 'Initialization has failed due to: ';
const RUN_FAILED = 'An error has occurred: ';
const ZIP_WITHOUT_ENTRY = 'Zipped actions must contain either package.json or index.js at the root.';

function parseArgs(argv) {
  const args = { main: 'main' };
  for (let i = 0; i < argv.length; i += 2) {
    args[argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = argv[i + 1];
  }
  return args;
}

function propertyPath(root, names) {
  return names.reduce((object, name) => (object == null ? undefined : object[name]), root);
}

function loadSource(file, main) {
  const code = fs.readFileSync(file, 'utf8');
  // A function wrapper like Node's own module wrapper, so that `require`,
  // `module` and `exports` work and a top-level `function main` is found.
  const wrapper = '(function (exports, require, module, __filename, __dirname, __ow_main) {' +
    code + '\n;try { return eval(__ow_main); } catch (e) { return undefined; }\n})';
  const compiled = vm.runInThisContext(wrapper, { filename: file });
  const moduleObject = { exports: {} };
  const localRequire = (name) => require(name.startsWith('.') ? path.resolve(path.dirname(file), name) : name);
  const found = compiled.call(moduleObject.exports, moduleObject.exports, localRequire, moduleObject,
    file, path.dirname(file), main);
  actionExports = moduleObject.exports;
  for (const candidate of [found, global[main], moduleObject.exports[main]]) {
    if (typeof candidate === 'function') return candidate;
  }
  return undefined;
}

function loadArchive(dir, main) {
  const parts = main.split('.');
  if (parts.length > 1) {
    actionExports = require(path.join(dir, parts[0]));
    return propertyPath(actionExports, parts.slice(1));
  }
  if (!fs.existsSync(path.join(dir, 'package.json')) && !fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(ZIP_WITHOUT_ENTRY);
  }
  actionExports = require(dir);
  return actionExports[main];
}

// After a CRIU restore: call the action's afterRestore() (a global or an
// export), so that it can refresh what every clone of a snapshot shares.
function runHook(request, moduleExports, resultFd) {
  const reply = (result) => fs.writeSync(resultFd, JSON.stringify({ id: request.id, result }) + '\n');
  const name = request.hook === 'after_restore' ? 'afterRestore' : request.hook;
  if (request.seed) reseedMathRandom(request.seed);
  const hook = typeof global[name] === 'function' ? global[name]
    : (moduleExports && typeof moduleExports[name] === 'function' ? moduleExports[name] : undefined);
  if (!hook) return reply({ ok: true, called: false });
  Promise.resolve().then(() => hook(request.seed)).then(
    () => reply({ ok: true, called: true }),
    (error) => { console.error(error && error.stack ? error.stack : String(error)); reply({ ok: false, called: true, error: String(error) }); });
}

// V8 offers no way to reseed Math.random, and every clone of a snapshot
// restores the same generator state: replace it with xorshift128+ seeded
// from the fresh randomness the proxy sends with the hook.
function reseedMathRandom(seedHex) {
  let s0 = BigInt('0x' + seedHex.slice(0, 16)) || 1n;
  let s1 = BigInt('0x' + seedHex.slice(16, 32)) || 2n;
  const mask = (1n << 64n) - 1n;
  Math.random = function random() {
    let x = s0;
    const y = s1;
    s0 = y;
    x = (x ^ (x << 23n)) & mask;
    s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return Number(((s1 + y) & mask) >> 11n) / 2 ** 53;
  };
}

// The loaded action's module exports, where hooks may be found.
let actionExports;

function serializeRejection(reason) {
  if (reason === undefined) return {};
  if (reason instanceof Error) return String(reason);
  return reason;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const resultFd = Number(args.resultFd);
  const reply = (message) => fs.writeSync(resultFd, JSON.stringify(message) + '\n');
  process.chdir(args.actionDir);

  let entry;
  try {
    entry = args.source ? loadSource(args.source, args.main) : loadArchive(args.actionDir, args.main);
  } catch (error) {
    console.error(error && error.stack ? error.stack : String(error));
    reply({ error: INIT_FAILED + String(error) });
    process.exit(1);
  }
  if (typeof entry !== 'function') {
    const message = `Action entrypoint '${args.main}' is not a function.`;
    console.error(message);
    reply({ error: INIT_FAILED + message });
    process.exit(1);
  }
  reply({ ok: true });

  let previous = {};
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    const request = JSON.parse(line);
    if (request.hook !== undefined) {
      runHook(request, actionExports, resultFd);
      return;
    }
    // The previous run's context goes: each run sees only its own values.
    for (const key of Object.keys(previous)) delete process.env[key];
    previous = request.env || {};
    Object.assign(process.env, previous);
    const answer = (fields) => {
      let encoded;
      try {
        encoded = JSON.stringify(Object.assign({ id: request.id }, fields));
      } catch (error) {
        console.error(`The action's result cannot be encoded as JSON: ${error}`);
        encoded = JSON.stringify({ id: request.id, result: null });
      }
      fs.writeSync(resultFd, encoded + '\n');
    };
    let outcome;
    try {
      outcome = entry(request.value === undefined ? {} : request.value);
    } catch (error) {
      console.error(error && error.stack ? error.stack : String(error));
      answer({ status: 502, error: RUN_FAILED + String(error) });
      return;
    }
    Promise.resolve(outcome).then(
      (result) => answer({ result: result === undefined ? {} : result }),
      (reason) => answer({ result: { error: serializeRejection(reason) } }),
    );
  });
  lines.on('close', () => process.exit(0));
}

main();
