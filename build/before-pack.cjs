// electron-builder's beforePack hook: packaging refuses what would ship a broken app, and says
// whether the build is signed.
// - the compiled app (npm run build) must exist and be newer than every source it is built from;
// - the node-llama-cpp binary for the target must be installed: a tree installed on Linux has only
//   Linux binaries, and a mac build from it would silently ship none that run on a Mac
//   (install with `npm ci --os=darwin --cpu=arm64`).
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const archNames = { 0: 'ia32', 1: 'x64', 2: 'armv7l', 3: 'arm64', 4: 'universal' };

/** The @node-llama-cpp package the app needs for a platform and architecture. */
function llamaBinaryPackage(platform, arch) {
  if (platform === 'darwin') return arch === 'arm64' ? 'mac-arm64-metal' : 'mac-x64';
  if (platform === 'linux') return arch === 'arm64' ? 'linux-arm64' : 'linux-x64';
  return `${platform}-${arch}`;
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(ts|tsx|mjs|cjs|css|html)$/.test(entry.name)) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

exports.default = async function beforePack(context) {
  const root = context.packager.projectDir;
  const platform = context.electronPlatformName;
  const arch = archNames[context.arch] ?? String(context.arch);
  const compiled = ['dist/main/electron-main.js', 'dist/main/utility-process.js', 'dist/renderer/index.html'];
  for (const file of compiled)
    if (!existsSync(path.join(root, file)))
      throw new Error(
        `${file} is missing: run \`npm run build\` before packaging (npm run package:mac does)`,
      );
  const builtAt = Math.min(...compiled.map((file) => statSync(path.join(root, file)).mtimeMs));
  const sourcesAt = Math.max(
    ...['server', 'electron', 'shared', 'renderer'].map((dir) => newestMtime(path.join(root, dir))),
  );
  if (sourcesAt > builtAt) throw new Error('the compiled app is older than its sources: run `npm run build`');

  const binary = llamaBinaryPackage(platform, arch);
  if (!existsSync(path.join(root, 'node_modules', '@node-llama-cpp', binary, 'package.json')))
    throw new Error(
      `node_modules/@node-llama-cpp/${binary} is not installed, so the ${platform} ${arch} app would have no ` +
        `inference binary; install the tree for the target: npm ci --os=${platform} --cpu=${arch}`,
    );

  if (platform === 'darwin') {
    // LMX's own addon build (npm run build:engine, Metal on a Mac) is what the app should ship; without it
    // the app runs node-llama-cpp's prebuilt binary.
    const localBuilds = path.join(root, 'node_modules', 'node-llama-cpp', 'llama', 'localBuilds');
    const ownBuild = existsSync(localBuilds)
      ? readdirSync(localBuilds).find((name) => name.startsWith(`mac-${arch}-metal`))
      : undefined;
    console.log(
      ownBuild
        ? `  • LMX: shipping LMX's addon build ${ownBuild}`
        : "  • LMX: no LMX addon build for Metal (npm run build:engine on the Mac): the app will run node-llama-cpp's prebuilt binary",
    );
    const signed = Boolean(process.env.CSC_LINK) || process.env.CSC_IDENTITY_AUTO_DISCOVERY !== 'false';
    console.log(
      process.env.CSC_LINK
        ? '  • LMX: signing with the certificate in CSC_LINK'
        : `  • LMX: CSC_LINK is not set: this build is UNSIGNED${signed ? ' unless a Developer ID is in the keychain' : ''}; Gatekeeper refuses an unsigned app (see README → Release)`,
    );
  }
};
