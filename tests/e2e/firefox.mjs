// Firefox ESR (Debian's firefox-esr) for the end-to-end tests: headless, a
// fresh profile, driven over WebDriver BiDi (a small client on the global
// WebSocket: node 22+, or node 20 with --experimental-websocket, which
// inside.sh passes), the extension installed as a temporary add-on through
// webExtension.install (unsigned is fine for a temporary add-on), the native
// messaging host manifest in $HOME/.mozilla/native-messaging-hosts/.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXTENSION_DIR, HOST_NAME, writeAgentWrapper } from './lib.mjs';

export const FIREFOX = process.env.LLAVERO_FIREFOX || '/usr/bin/firefox-esr';
export const GECKO_ID = 'llavero@llavero.mx';

// The profile's prefs: no updates, telemetry, first-run pages or background
// traffic; the remote agent adds its own recommended prefs on top.
const PREFS = {
  'app.update.auto': false,
  'app.update.disabledForTesting': true,
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'browser.aboutwelcome.enabled': false,
  'browser.newtabpage.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.tabs.warnOnClose': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'extensions.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'intl.accept_languages': 'es-MX, es',
  'intl.locale.requested': 'es-MX',
};

// A minimal WebDriver BiDi client: send(method, params) -> result; events
// through on(method, fn).
class Bidi {
  constructor(ws) {
    this.ws = ws;
    this.next = 1;
    this.pending = new Map();
    this.listeners = [];
    ws.addEventListener('message', (ev) => {
      const m = JSON.parse(typeof ev.data === 'string' ? ev.data : Buffer.from(ev.data).toString('utf8'));
      if (m.id !== undefined && this.pending.has(m.id)) {
        const { ok, fail } = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.type === 'error') fail(new Error(`${m.error}: ${m.message}`));
        else ok(m.result);
      } else if (m.type === 'event') {
        for (const [method, fn] of this.listeners) if (method === m.method) fn(m.params);
      }
    });
    ws.addEventListener('close', () => {
      for (const { fail } of this.pending.values()) fail(new Error('BiDi connection closed'));
      this.pending.clear();
    });
  }
  static connect(url, timeout = 10000) {
    if (typeof WebSocket !== 'function')
      throw new Error('no global WebSocket: node 22+, or node 20 with --experimental-websocket');
    return new Promise((ok, fail) => {
      const ws = new WebSocket(url);
      const t = setTimeout(() => fail(new Error(`BiDi: no connection to ${url}`)), timeout);
      ws.addEventListener('open', () => { clearTimeout(t); ok(new Bidi(ws)); });
      ws.addEventListener('error', (e) => { clearTimeout(t); fail(new Error(`BiDi: ${e.message || 'connection failed'}`)); });
    });
  }
  send(method, params = {}, timeout = 30000) {
    const id = this.next++;
    return new Promise((ok, fail) => {
      const t = setTimeout(() => { this.pending.delete(id); fail(new Error(`BiDi ${method}: no answer in ${timeout} ms`)); }, timeout);
      this.pending.set(id, { ok: (r) => { clearTimeout(t); ok(r); }, fail: (e) => { clearTimeout(t); fail(e); } });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  on(method, fn) { this.listeners.push([method, fn]); }
  close() { try { this.ws.close(); } catch (e) { /* gone */ } }
}

// Writes $HOME/.mozilla/native-messaging-hosts/mx.llavero.agent.json for the
// extension's gecko ID, pointing at writeAgentWrapper's wrapper (in `dir`).
export function installFirefoxNativeHost(home, dir, agent, env = {}, opts = {}) {
  const wrapper = writeAgentWrapper(dir, agent, env, opts);
  const hosts = join(home, '.mozilla/native-messaging-hosts');
  mkdirSync(hosts, { recursive: true });
  writeFileSync(join(hosts, `${HOST_NAME}.json`), JSON.stringify({
    name: HOST_NAME,
    description: 'Llavero agent (test)',
    path: wrapper,
    type: 'stdio',
    allowed_extensions: [GECKO_ID],
  }, null, 2));
}

// Starts headless Firefox ESR on a fresh profile in scratch/ffprofile, HOME
// and TMPDIR/XDG dirs under scratch (prefs: more user.js prefs), and opens
// a BiDi session. Resolves to {bidi, proc, capabilities, close()}; close() ends the session, closes the browser and
// kills it by PID if it lingers.
export async function launchFirefox(scratch, { timeout = 30000, prefs = {} } = {}) {
  const profile = join(scratch, 'ffprofile');
  mkdirSync(profile, { recursive: true });
  for (const d of ['tmp', 'config', 'cache', 'data']) mkdirSync(join(scratch, d), { recursive: true });
  writeFileSync(join(profile, 'user.js'),
    Object.entries({ ...PREFS, ...prefs }).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n') + '\n');
  const env = {
    ...process.env,
    HOME: scratch,
    TMPDIR: join(scratch, 'tmp'),
    XDG_CONFIG_HOME: join(scratch, 'config'),
    XDG_CACHE_HOME: join(scratch, 'cache'),
    XDG_DATA_HOME: join(scratch, 'data'),
    MOZ_CRASHREPORTER_DISABLE: '1',
    MOZ_HEADLESS: '1',
  };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  const proc = spawn(FIREFOX, ['--headless', '--no-remote', '--new-instance', '--remote-debugging-port=0',
    '-profile', profile, 'about:blank'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise((r) => proc.once('exit', (code, sig) => r({ code, sig })));
  const url = await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`firefox-esr: no WebDriver BiDi in ${timeout} ms:\n${log.slice(-2000)}`)), timeout);
    const scan = (chunk) => {
      log += chunk.toString();
      const m = log.match(/WebDriver BiDi listening on (ws:\/\/\S+)/);
      if (m) { clearTimeout(t); ok(m[1]); }
    };
    proc.stdout.on('data', scan);
    proc.stderr.on('data', scan);
    exited.then((e) => { clearTimeout(t); fail(new Error(`firefox-esr exited (${JSON.stringify(e)}):\n${log.slice(-2000)}`)); });
  });
  let bidi, session;
  const kill = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); };
  process.once('exit', kill);
  try {
    bidi = await Bidi.connect(url.replace(/\/?$/, '') + '/session');
    session = await bidi.send('session.new', { capabilities: {} });
  } catch (e) {
    kill();
    throw e;
  }
  const close = async () => {
    await bidi.send('browser.close', {}, 10000).catch(() => {});
    bidi.close();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    kill();
  };
  return { bidi, proc, close, log: () => log, capabilities: session.capabilities };
}

// Installs web/extension as a temporary add-on; resolves to its ID.
export async function installExtension(bidi, path = EXTENSION_DIR) {
  const r = await bidi.send('webExtension.install', { extensionData: { type: 'path', path } });
  return r.extension;
}

// A new tab at url (waits for the load event); resolves to its context ID.
export async function openTab(bidi, url) {
  const { context } = await bidi.send('browsingContext.create', { type: 'tab' });
  await bidi.send('browsingContext.navigate', { context, url, wait: 'complete' });
  return context;
}

// Evaluates `fn` (its source) with args in the page: the value it resolves
// to goes through JSON. Resolves to that value; a throw becomes a rejection.
export async function evaluate(bidi, context, fn, ...args) {
  const expr = `(async () => JSON.stringify(await (${fn.toString()})(...${JSON.stringify(args)})))()`;
  const r = await bidi.send('script.evaluate', { expression: expr, target: { context }, awaitPromise: true });
  if (r.type === 'exception') throw new Error(`in the page: ${r.exceptionDetails && r.exceptionDetails.text}`);
  return r.result.type === 'string' ? JSON.parse(r.result.value) : undefined;
}

// lib.mjs's inPage for a BiDi context: fn(llavero, ...args) in the page,
// {ok, value} or {ok:false, error:{name, code, message, retriesLeft, isLlaveroError}}.
export function inPageBidi(bidi, context, fn, ...args) {
  return evaluate(bidi, context, async (src, args) => {
    // eslint-disable-next-line no-new-func
    const f = new Function('return (' + src + ')')();
    try {
      return { ok: true, value: await f(window.llavero, ...args) };
    } catch (e) {
      return { ok: false, error: { name: e && e.name, code: e && e.code, message: e && e.message,
        retriesLeft: e && e.retriesLeft, isLlaveroError: !!(window.llavero && e instanceof window.llavero.LlaveroError) } };
    }
  }, fn.toString(), args);
}

// Polls fn() in the page (any context's current document, across
// navigations) until it returns something truthy; resolves to that, or to
// the last value after `timeout` ms.
export async function waitInPage(bidi, context, fn, timeout = 30000) {
  const until = Date.now() + timeout;
  let v;
  for (;;) {
    v = await evaluate(bidi, context, fn).catch(() => undefined);
    if (v || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Navigates the tab (waits for the load event).
export function navigate(bidi, context, url) {
  return bidi.send('browsingContext.navigate', { context, url, wait: 'complete' });
}
