// Finding 18 (second half) of the hostile-test issue: --admin-key and --api-key were visible in the process
// list. The keys can come from files (or the environment), and --help says so.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adminHeavyEnv } from '../helpers/model-library.ts';
import { makeDataDir, runCli, spawnServer, type ServerProcess } from '../helpers/server.ts';
import { EXIT } from '../../shared/exit-codes.ts';

const adminKey = 'admin-key-from-a-file-0123456789';
const apiKey = 'api-key-from-a-file-0123456789';
let server: ServerProcess | undefined;

afterAll(async () => {
  server?.child.kill('SIGKILL');
  await server?.exited;
});

describe('keys from files', () => {
  it('serves with --admin-key-file and --api-key-file, the keys absent from the command line', async () => {
    const dataDir = await makeDataDir();
    const adminFile = path.join(dataDir, 'admin.key');
    const apiFile = path.join(dataDir, 'api.key');
    await writeFile(adminFile, `${adminKey}\n`, { mode: 0o600 });
    await writeFile(apiFile, `${apiKey}\n`, { mode: 0o600 });
    server = await spawnServer(
      ['--data-dir', dataDir, '--port', '0', '--gpu', 'off', '--threads', '1'].concat([
        '--admin-key-file',
        adminFile,
        '--api-key-file',
        apiFile,
        '--log-level',
        'warn',
      ]),
      adminHeavyEnv,
    );
    const commandLine = await readFile(`/proc/${server.child.pid}/cmdline`, 'utf8');
    expect(commandLine).not.toContain(adminKey);
    expect(commandLine).not.toContain(apiKey);
    // A server just started on a busy machine may shed its first requests for a moment (bounded retry).
    let admin = await fetch(`${server.url}/admin/models`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    for (let attempt = 0; admin.status === 503 && attempt < 40; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      admin = await fetch(`${server.url}/admin/models`, { headers: { authorization: `Bearer ${adminKey}` } });
    }
    expect(admin.status, await admin.clone().text()).toBe(200);
    expect((await fetch(`${server.url}/v1/models`)).status).toBe(401);
    const v1 = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(v1.status).toBe(200);
  });

  it('refuses an unreadable key file with exit code 2, naming the file', async () => {
    const missing = path.join(await makeDataDir(), 'nope.key');
    const run = await runCli(['serve', '--data-dir', path.dirname(missing), '--admin-key-file', missing]);
    expect(run.code).toBe(EXIT.config);
    expect(run.stderr).toMatch(/adminKey \(from .*nope\.key\): cannot be read/);
  });

  it('says in --help how to keep the keys out of the process list', async () => {
    const help = await runCli(['serve', '--help']);
    expect(help.stdout).toMatch(/--admin-key-file <file>/);
    expect(help.stdout).toMatch(/--api-key-file <file>/);
    expect(help.stdout).toMatch(/LMX_ADMIN_KEY/);
    expect(help.stdout).toMatch(/LMX_API_KEY/);
  });
});
