// tick: Node.js 18, started by the alarms' triggers through their rules.
// The seconds alarm's trigger_payload (an object) arrives as the parameters;
// the schedule event's `params` are sent by serverless-openwhisk as a JSON
// string, which the alarms feed wraps as {"payload": "<that string>"}.
function main(params) {
  let { source } = params;
  if (!source && typeof params.payload === 'string') {
    source = JSON.parse(params.payload).source;
  }
  source = source || 'invoke';
  console.log(`tick from ${source}`);
  return { tick: source, runtime: 'nodejs:18' };
}

exports.main = main;
