// SPDX-License-Identifier: MIT
// The worker launch contract's argv (proto/include/buntime/proto/launch.h), parsed as
// buntime-worker parses it: --key=value or --key value; --inject-base is a flag.
const VALUED = new Set(['--app-dir', '--name', '--version', '--entrypoint', '--threads', '--concurrency',
  '--max-body', '--listen', '--command-arg']);

function count(value, key, min, max) {
  if (!/^[0-9]+$/.test(value)) throw new Error(`${key} must be a number`);
  const n = Number(value);
  if (n < min || n > max) throw new Error(`${key} must be ${min}..${max}`);
  return n;
}

export function parseArgv(args) {
  const out = { appDir: '', name: '', version: '', entrypoint: '', threads: 4, concurrency: 100,
    maxBody: 10 * 1024 * 1024, injectBase: false };
  for (let i = 0; i < args.length; i++) {
    let key = args[i];
    let value;
    const eq = key.indexOf('=');
    if (key.startsWith('--') && eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    }
    if (key === '--inject-base' && value === undefined) {
      out.injectBase = true;
      continue;
    }
    if (!VALUED.has(key)) throw new Error(`unknown argument ${JSON.stringify(key)}`);
    if (value === undefined) {
      if (i + 1 >= args.length) throw new Error(`${key} needs a value`);
      value = args[++i];
    }
    switch (key) {
      case '--app-dir': out.appDir = value; break;
      case '--name': out.name = value; break;
      case '--version': out.version = value; break;
      case '--entrypoint': out.entrypoint = value; break;
      case '--threads': out.threads = count(value, key, 1, 1024); break;
      case '--concurrency': out.concurrency = count(value, key, 1, 1000000); break;
      case '--max-body': out.maxBody = count(value, key, 0, Number.MAX_SAFE_INTEGER); break;
      default: break; // --listen, --command-arg: command apps only
    }
  }
  if (!out.appDir || !out.name || !out.version) throw new Error('--app-dir, --name and --version are required');
  return out;
}
