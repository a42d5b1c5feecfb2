// Shared by the end-to-end tests: Debian's Chromium in new headless mode
// with the Llavero extension loaded and llavero-agent as its native
// messaging host, a small static web server, and TAP-ish output.
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, mkdirSync, chmodSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';

export const SRC = resolve(process.env.LLAVERO_SRC || join(dirname(fileURLToPath(import.meta.url)), '../..'));
export const BUILD = resolve(process.env.LLAVERO_BUILD || join(SRC, 'build'));
export const EXTENSION_DIR = join(SRC, 'web/extension');
export const LLAVERO_JS = join(SRC, 'web/llavero.js');
export const CHROMIUM = process.env.LLAVERO_CHROMIUM || '/usr/bin/chromium';
export const HOST_NAME = 'mx.llavero.agent';

// The extension's ID follows from the public key in its manifest.
export function extensionId() {
  const manifest = JSON.parse(readFileSync(join(EXTENSION_DIR, 'manifest.json'), 'utf8'));
  const der = Buffer.from(manifest.key, 'base64');
  return createHash('sha256').update(der).digest('hex').slice(0, 32)
    .replace(/[0-9a-f]/g, (c) => String.fromCharCode(97 + parseInt(c, 16)));
}

let failures = 0;
let count = 0;
const t0 = Date.now();
const elapsed = () => `(${((Date.now() - t0) / 1000).toFixed(1)} s)`;
export function ok(cond, what, detail) {
  count++;
  if (cond) console.log(`ok ${count} - ${what} ${elapsed()}`);
  else {
    failures++;
    console.log(`not ok ${count} - ${what} ${elapsed()}${detail !== undefined ? ': ' + (typeof detail === 'string' ? detail : JSON.stringify(detail)) : ''}`);
  }
  return cond;
}
export function failed() { return failures; }
// A run that checked nothing fails: the browser or the agent never got to
// the checks.
export function done() {
  console.log(`1..${count}`);
  if (failures) console.log(`# ${failures} failed`);
  if (!count) console.log('# no check ran');
  process.exitCode = failures || !count ? 1 : 0;
}

// Writes D/llavero-agent-wrapper.sh: runs `agent` with exactly the
// environment given (plus PATH), its stderr appended to D/agent.log; with
// opts.record, every byte the browser sends the agent is also appended to
// that file (what the agent was asked: see recordedRequests). Returns its path.
export function writeAgentWrapper(dir, agent, env = {}, opts = {}) {
  mkdirSync(dir, { recursive: true });
  const wrapper = join(dir, 'llavero-agent-wrapper.sh');
  const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
  const lines = ['#!/bin/sh', '# Written by tests/e2e/lib.mjs: llavero-agent with the test\'s environment.'];
  for (const [k, v] of Object.entries(env)) lines.push(`export ${k}=${q(v)}`);
  const run = `${q(agent)} "$@" 2>>${q(join(dir, 'agent.log'))}`;
  lines.push(opts.record ? `tee -a ${q(opts.record)} | ${run}` : `exec ${run}`);
  writeFileSync(wrapper, lines.join('\n') + '\n');
  chmodSync(wrapper, 0o755);
  return wrapper;
}

// The native messages (4-byte native-endian length + JSON) recorded by a
// wrapper written with opts.record, parsed.
export function recordedRequests(file) {
  const out = [];
  const b = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
  for (let i = 0; i + 4 <= b.length;) {
    const n = endianness() === 'LE' ? b.readUInt32LE(i) : b.readUInt32BE(i);
    if (i + 4 + n > b.length) break;
    out.push(JSON.parse(b.subarray(i + 4, i + 4 + n).toString('utf8')));
    i += 4 + n;
  }
  return out;
}

// Writes D/NativeMessagingHosts/mx.llavero.agent.json pointing at
// writeAgentWrapper's wrapper (Chromium's per-user-data-dir host manifests).
export function installNativeHost(userDataDir, agent, env = {}) {
  const dir = join(userDataDir, 'NativeMessagingHosts');
  mkdirSync(dir, { recursive: true });
  const wrapper = writeAgentWrapper(userDataDir, agent, env);
  writeFileSync(join(dir, `${HOST_NAME}.json`), JSON.stringify({
    name: HOST_NAME,
    description: 'Llavero agent (test)',
    path: wrapper,
    type: 'stdio',
    allowed_origins: [`chrome-extension://${extensionId()}/`],
  }, null, 2));
}

// Chromium, new headless mode, the extension loaded, nothing shared with the
// machine: a fresh user data dir, TMPDIR/XDG dirs under scratch.
export async function launch(scratch, { hostRules = '', extraArgs = [], noExtension = false } = {}) {
  const userDataDir = join(scratch, 'profile');
  mkdirSync(userDataDir, { recursive: true });
  for (const d of ['tmp', 'config', 'cache']) mkdirSync(join(scratch, d), { recursive: true });
  const args = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--no-default-browser-check', '--disable-features=Translate,MediaRouter',
    '--lang=es-MX',
  ];
  if (!noExtension) args.push(`--disable-extensions-except=${EXTENSION_DIR}`, `--load-extension=${EXTENSION_DIR}`);
  if (hostRules) args.push(`--host-resolver-rules=${hostRules}`);
  args.push(...extraArgs);
  const env = {
    ...process.env,
    TMPDIR: join(scratch, 'tmp'),
    XDG_CONFIG_HOME: join(scratch, 'config'),
    XDG_CACHE_HOME: join(scratch, 'cache'),
    HOME: scratch,
  };
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,  // the args above choose the new headless mode
    args,
    ignoreDefaultArgs: noExtension ? ['--headless'] : ['--disable-extensions', '--headless'],
    env,
    locale: 'es-MX',
    timeout: 60000,
  });
  return { context, userDataDir };
}

// Waits until the extension's service worker runs (its ID as Chromium sees it).
export async function extensionWorker(context, timeout = 15000) {
  const want = extensionId();
  const find = () => context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${want}/`));
  let w = find();
  const until = Date.now() + timeout;
  while (!w && Date.now() < until) {
    await context.waitForEvent('serviceworker', { timeout: Math.max(1, until - Date.now()) }).catch(() => {});
    w = find();
  }
  return w;
}

// A static server for test pages: `/llavero.js` is web/llavero.js, other
// paths come from `pages` (path -> html, or {html, headers}). Resolves to the server.
export function serve(pages, host = '127.0.0.1', port = 0) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/llavero.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(readFileSync(LLAVERO_JS));
      return;
    }
    if (Object.prototype.hasOwnProperty.call(pages, path)) {
      const p = typeof pages[path] === 'string' ? { html: pages[path] } : pages[path];
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...(p.headers || {}) });
      res.end(p.html);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok(server));
  });
}

export const TEST_PAGE = `<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Llavero: página de prueba</title>
<script src="/llavero.js"></script></head>
<body><h1>Página de prueba de llavero.js</h1><p id="out"></p></body></html>
`;

// Runs fn(llavero, ...args) in the page; resolves to {ok, value} or
// {ok:false, error:{name, code, message, retriesLeft}}.
export function inPage(page, fn, ...args) {
  return page.evaluate(async ([src, args]) => {
    // eslint-disable-next-line no-new-func
    const f = new Function('return (' + src + ')')();
    try {
      return { ok: true, value: await f(window.llavero, ...args) };
    } catch (e) {
      return { ok: false, error: { name: e && e.name, code: e && e.code, message: e && e.message,
        retriesLeft: e && e.retriesLeft, isLlaveroError: !!(window.llavero && e instanceof window.llavero.LlaveroError) } };
    }
  }, [fn.toString(), args]);
}

export function readText(path) {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

// The environment llavero-agent runs with in these tests: our PKCS#11 module
// only, the scripted pinentry (tests/e2e/pinentry.py), no config file but
// the test's own, debug logs (never PINs) in the profile's agent.log.
export function agentEnv(scratch, extra = {}) {
  const conf = join(scratch, 'agent.conf');
  if (!existsSync(conf)) writeFileSync(conf, '# llavero-agent configuration of the e2e test\n');
  return {
    LLAVERO_LOG: 'debug',
    LLAVERO_AGENT_CONF: conf,
    LLAVERO_AGENT_PKCS11: join(BUILD, 'pkcs11/llavero-pkcs11.so'),
    LLAVERO_PINENTRY: join(SRC, 'tests/e2e/pinentry.py'),
    LLAVERO_TEST_PINENTRY_SCRIPT: join(scratch, 'pinentry.script'),
    LLAVERO_TEST_PINENTRY_LOG: join(scratch, 'pinentry.log'),
    TMPDIR: join(scratch, 'tmp'),
    XDG_CONFIG_HOME: join(scratch, 'config'),
    XDG_CACHE_HOME: join(scratch, 'cache'),
    HOME: scratch,
    ...extra,
  };
}

// The person's next answers at the PIN dialog ('pin 123456', 'cancel', 'ok');
// returns a function giving what the pinentry was shown since this call.
export function pinentryScript(scratch, lines) {
  const script = join(scratch, 'pinentry.script');
  const log = join(scratch, 'pinentry.log');
  writeFileSync(script, lines.join('\n') + '\n');
  writeFileSync(script + '.pos', '0');
  const from = readText(log).length;
  return () => readText(log).slice(from);
}

// APDUs the card has answered so far (llavero-vcard stats --state F).
import { execFileSync } from 'node:child_process';
export function cardApdus() {
  const out = execFileSync(process.env.LLAVERO_VCARD, ['stats', '--state', process.env.LLAVERO_VCARD_STATE], { encoding: 'utf8' });
  const m = out.match(/apdus?\D*(\d+)/i);
  return { count: m ? Number(m[1]) : NaN, raw: out };
}

// The generated identities' facts (tests/fixtures/gen-fixtures.sh writes
// fixtures.env as KEY='value' lines).
export function fixtures() {
  const out = {};
  for (const line of readText(process.env.LLAVERO_E2E_FIXTURES).split('\n')) {
    const m = line.match(/^([A-Z0-9_]+)='(.*)'$/);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

// The llavero-idp demo portal ("Registro a la Beca Rita Cetina", /demo):
// who it shows as signed in, read from the page ('' where it shows nothing).
export function portalIdentity(page) {
  return page.evaluate(() => {
    const t = (id) => { const e = document.getElementById(id); return e ? e.textContent.trim() : ''; };
    return { nombre: t('demo-nombre'), rfc: t('demo-rfc'), curp: t('demo-curp'), metodo: t('demo-metodo') };
  }).catch(() => ({ nombre: '', rfc: '', curp: '', metodo: '' }));
}

// On a llavero-idp page of a signed-in account: registers a security key
// through the extension and the agent's FIDO bridge (llavero.webauthn.create
// with the server's options, a discoverable credential). Resolves to inPage's
// {ok, value: {r, type, transports}} or {ok: false, error}.
export function registerKeyThroughAgent(page) {
  return inPage(page, async (l) => {
    const o = await window.llaveroIdp.post('/attestation/options', {
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      attestation: 'none',
    });
    if (o.status !== 'ok') throw new Error('options: ' + o.errorMessage);
    delete o.status; delete o.errorMessage;
    const cred = await l.webauthn.create(o);
    const r = await window.llaveroIdp.post('/attestation/result', cred);
    return { r, type: cred.type, transports: cred.response && cred.response.transports };
  });
}

// On llavero-idp's sign-in page (/entrar): signs in with a security key
// through the extension (llavero.webauthn.get, no user name: the key finds
// its credential). Resolves to inPage's {ok, value: the server's answer}.
export function signInWithKeyThroughAgent(page) {
  return inPage(page, async (l) => {
    const o = await window.llaveroIdp.post('/assertion/options', { username: '', userVerification: 'required' });
    if (o.status !== 'ok') throw new Error('options: ' + o.errorMessage);
    delete o.status; delete o.errorMessage;
    const cred = await l.webauthn.get(o);
    return window.llaveroIdp.post('/assertion/result', cred);
  });
}

// Signs out of llavero-idp (its /cuenta page's "Salir") and of the demo
// portal ("Salir del portal"); ends on the portal's front page.
export async function signOutOfPortal(page, base) {
  await page.goto(`${base}/cuenta`);
  if (await page.isVisible('form[action="/salir"] button'))
    await Promise.all([page.waitForURL(/\/entrar/), page.click('form[action="/salir"] button')]);
  await page.goto(`${base}/demo`);
  if (await page.isVisible('form[action="/demo/salir"] button'))
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/demo/salir"] button')]);
  await page.goto(`${base}/demo`);
}
