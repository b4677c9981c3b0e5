// split: Node.js 18, the sequence's first step: a text into its words.
function main(params) {
  if (typeof params.text !== 'string') {
    return { error: 'split needs a "text" parameter' };
  }
  return { words: params.text.split(/\s+/).filter((word) => word) };
}

exports.main = main;
