// First step of the `words` sequence: text in, a list of words out.
//   wsk action update split sequence/split.js --kind nodejs:18
//   wsk action update sort sequence/sort.py --kind python:3.11
//   wsk action update words --sequence split,sort
//   wsk action invoke words -r -p text "the quick brown fox jumps over the lazy dog"
// Whatever this returns is the whole input of `sort`: a sequence passes
// results on, not the parameters the sequence was invoked with.
function main(params) {
  if (typeof params.text !== 'string') {
    // An application error: the sequence stops here and reports it.
    return { error: 'split needs a "text" parameter, e.g. -p text "the quick brown fox"' };
  }
  const words = params.text.toLowerCase().match(/[\p{L}\p{N}']+/gu) || [];
  console.log(`split ${words.length} words`);
  return { words };
}
