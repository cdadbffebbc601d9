// Fails early, in one line, when the Node running npm scripts is too old. `npm install`
// puts Node 22 at node_modules/.bin/node (the `node` devDependency), which npm scripts use.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`paysync needs Node 22.12 or newer (found ${process.version}). Run "npm install" first: it installs Node 22 for the project's scripts.`);
  process.exit(1);
}
