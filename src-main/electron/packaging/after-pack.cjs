// electron-builder afterPack hook: flips the Electron fuses of the packed binary before it is wrapped
// into installers (and before signing on macOS). Fuses are baked into the binary, so they hold even
// if someone edits the app: no ELECTRON_RUN_AS_NODE, no NODE_OPTIONS, no --inspect, cookies
// encrypted, app code only from the (integrity-checked) asar.
//
// Tolerates a stub Electron (the offline packaging smoke test packs a shell script instead of the
// real binary): when the fuse sentinel is absent it logs and skips instead of failing the build.
const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');

// The marker @electron/fuses looks for in the Electron binary.
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

function electronBinary(context) {
  const { electronPlatformName, appOutDir, packager } = context;
  const productFilename = packager.appInfo.productFilename;
  switch (electronPlatformName) {
    case 'darwin':
    case 'mas':
      return path.join(appOutDir, `${productFilename}.app`);
    case 'win32':
      return path.join(appOutDir, `${productFilename}.exe`);
    default:
      return path.join(appOutDir, packager.executableName ?? productFilename);
  }
}

function binaryToInspect(target) {
  if (!target.endsWith('.app')) return target;
  return path.join(target, 'Contents', 'Frameworks', 'Electron Framework.framework', 'Electron Framework');
}

exports.FUSE_SENTINEL = FUSE_SENTINEL;
exports.electronBinary = electronBinary;

exports.default = async function afterPack(context) {
  const target = electronBinary(context);
  const inspected = binaryToInspect(target);
  if (!existsSync(inspected) || !readFileSync(inspected).includes(FUSE_SENTINEL)) {
    console.log(`[after-pack] skipping Electron fuses: ${inspected} is not a real Electron binary (stub?)`);
    return;
  }
  const { flipFuses, FuseVersion, FuseV1Options } = require('@electron/fuses');
  await flipFuses(target, {
    version: FuseVersion.V1,
    resetAdHocDarwinSignature: context.electronPlatformName === 'darwin' && context.arch === 3 /* arm64 */,
    [FuseV1Options.RunAsNode]: false,
    [FuseV1Options.EnableCookieEncryption]: true,
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    [FuseV1Options.EnableNodeCliInspectArguments]: false,
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
    [FuseV1Options.OnlyLoadAppFromAsar]: true,
    [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  });
  console.log(`[after-pack] Electron fuses set on ${target}`);
};
