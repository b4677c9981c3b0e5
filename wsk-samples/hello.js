// wsk action create hello-js hello.js
function main(params) {
  const name = params.name || 'stranger';
  console.log(`greeting ${name}`);
  return { greeting: `Hello ${name}!` };
}
