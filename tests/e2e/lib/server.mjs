// Starts the real qmtrack binary on a free port with a fresh data folder and
// a fresh database, the way an operator would: environment variables only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/// QMTRACK_BIN, else the newer of the release and debug builds.
function binary() {
  if (process.env.QMTRACK_BIN) return process.env.QMTRACK_BIN;
  const builds = ['release', 'debug']
    .map((profile) => join(repoRoot, 'target', profile, 'qmtrack'))
    .filter((path) => existsSync(path))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (builds.length === 0) throw new Error('no qmtrack binary: run `cargo build` first (or set QMTRACK_BIN)');
  return builds[0];
}

function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

async function waitUntilHealthy(base, child) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`qmtrack exited with ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('qmtrack did not become healthy within 60 s');
}

/// A running server. The database is SQLite in the fresh data folder unless
/// QMTRACK_E2E_DATABASE_URL names an empty PostgreSQL database (scripts/test.sh
/// makes one per run).
export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'qmtrack-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    QMTRACK_DATA_DIR: dataDir,
    QMTRACK_DATABASE_URL: process.env.QMTRACK_E2E_DATABASE_URL || `sqlite://${join(dataDir, 'qmtrack.sqlite')}`,
    QMTRACK_PUBLIC_BASE_URL: base,
    QMTRACK_STANDARDS_DIR: join(repoRoot, 'standards'),
    QMTRACK_LOG: 'warn',
    ROCKET_ADDRESS: '127.0.0.1',
    ROCKET_PORT: String(port),
    ROCKET_LOG_LEVEL: 'critical',
  };
  const bin = binary();
  const child = spawn(bin, ['serve'], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  try {
    await waitUntilHealthy(base, child);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${e.message}\n${stderr}`);
  }
  return {
    base,
    dataDir,
    /// Runs a qmtrack subcommand against the same database.
    cli(args, input) {
      const out = spawnSync(bin, args, { cwd: repoRoot, env, input, encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`qmtrack ${args.join(' ')} failed (${out.status}): ${out.stderr}`);
      return out.stdout;
    },
    get stderr() {
      return stderr;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
