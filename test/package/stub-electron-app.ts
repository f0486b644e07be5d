import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const plist = (executable: string, id: string) => `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>CFBundleExecutable</key><string>${executable}</string>
<key>CFBundleIdentifier</key><string>${id}</string>
<key>CFBundleName</key><string>${executable}</string>
<key>CFBundlePackageType</key><string>APPL</string>
<key>CFBundleVersion</key><string>45.5.0</string>
</dict></plist>
`;

/**
 * An `electronDist` for `electron-builder --mac dir` where no Electron.app can be downloaded: the
 * bundle layout electron-builder edits (Info.plist of the app and its helpers, their executables,
 * the framework's locale folders), with placeholder executables.
 */
export async function writeStubElectronApp(dir: string): Promise<void> {
  const contents = path.join(dir, 'Electron.app', 'Contents');
  await mkdir(path.join(contents, 'MacOS'), { recursive: true });
  await mkdir(path.join(contents, 'Resources'), { recursive: true });
  await writeFile(path.join(contents, 'Info.plist'), plist('Electron', 'com.github.Electron'));
  await writeFile(path.join(contents, 'MacOS', 'Electron'), 'stub\n', { mode: 0o755 });
  for (const suffix of ['', ' (Renderer)', ' (GPU)', ' (Plugin)']) {
    const helper = path.join(contents, 'Frameworks', `Electron Helper${suffix}.app`, 'Contents');
    await mkdir(path.join(helper, 'MacOS'), { recursive: true });
    await writeFile(
      path.join(helper, 'Info.plist'),
      plist(`Electron Helper${suffix}`, 'com.github.Electron.helper'),
    );
    await writeFile(path.join(helper, 'MacOS', `Electron Helper${suffix}`), 'stub\n', { mode: 0o755 });
  }
  const locales = path.join(
    contents,
    'Frameworks',
    'Electron Framework.framework',
    'Versions',
    'A',
    'Resources',
  );
  for (const locale of ['en', 'fr', 'ja']) {
    await mkdir(path.join(locales, `${locale}.lproj`), { recursive: true });
    await writeFile(path.join(locales, `${locale}.lproj`, 'locale.pak'), 'stub\n');
  }
}
