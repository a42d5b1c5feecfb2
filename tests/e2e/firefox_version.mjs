// integration.firefox_version: the extension in Firefox ESR (issue 6: "a
// Manifest V3 extension for Chromium and Firefox"). Headless firefox-esr,
// the extension installed as a temporary add-on over WebDriver BiDi, the
// native host manifest in $HOME/.mozilla/native-messaging-hosts/: a page on
// http://localhost:PORT asks llavero.version() and llavero-agent answers;
// the origin the agent receives is the browser's, not the page's claim
// (checked on the bytes the agent was sent); an unknown command stops in
// the extension; a plain-http page on a non-loopback name is refused; with
// the add-on uninstalled, llavero.js reports extension-unavailable.
//   node --experimental-websocket firefox_version.mjs SCRATCH
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { agentEnv, serve, TEST_PAGE, ok, done, readText, recordedRequests, BUILD } from './lib.mjs';
import { launchFirefox, installFirefoxNativeHost, installExtension, openTab, evaluate, inPageBidi, GECKO_ID } from './firefox.mjs';

const scratch = process.argv[2];
mkdirSync(scratch, { recursive: true });
const agent = process.env.LLAVERO_AGENT || join(BUILD, 'middleware/llavero-agent');
const record = join(scratch, 'agent-input.bin');
installFirefoxNativeHost(scratch, join(scratch, 'host'), agent, agentEnv(scratch), { record });

const server = await serve({ '/': TEST_PAGE }, '127.0.0.1');
const port = server.address().port;
const ff = await launchFirefox(scratch, { prefs: { 'network.dns.localDomains': 'llavero.test' } });
const { bidi } = ff;
try {
  console.log(`# ${ff.capabilities.browserName} ${ff.capabilities.browserVersion}, WebDriver BiDi`);
  const id = await installExtension(bidi);
  ok(id === GECKO_ID, `webExtension.install installs web/extension as a temporary add-on (${id})`, id);

  const tab = await openTab(bidi, `http://localhost:${port}/`);
  // The content script runs at document_start; the handshake may still be
  // on its way when the load event fires: llavero.js waits for it.
  const avail = await inPageBidi(bidi, tab, (l) => l.isAvailable());
  ok(avail.ok && avail.value === true, 'llavero.js sees the content script (readiness handshake)', avail);

  const v = await inPageBidi(bidi, tab, (l) => l.version());
  ok(v.ok && typeof v.value.version === 'string' && v.value.version.length > 0,
    'llavero.version() is answered by llavero-agent through the extension', v);
  if (v.ok) {
    console.log(`# agent ${v.value.version} (${v.value.appVersion || ''}), extension ${v.value.extensionVersion}, llavero.js ${v.value.library}`);
    ok(v.value.extensionVersion === '0.1.0' && v.value.library === '0.1.0', 'extension and library versions reported', v.value);
  }

  // A raw request that forges an origin: the agent is sent the browser's.
  const before = recordedRequests(record).length;
  const forged = await evaluate(bidi, tab, () => new Promise((resolve) => {
    const id = 'forge-' + Math.random();
    addEventListener('message', function h(e) {
      if (e.data && e.data.type === 'mx.llavero.response' && e.data.id === id) {
        removeEventListener('message', h);
        resolve(e.data);
      }
    });
    postMessage({ type: 'mx.llavero.request', id, command: 'get-signing-certificate',
      arguments: { origin: 'https://banco.example', device: 'vkey:/tmp/x' } }, location.origin);
  }));
  ok(forged && (forged.result || forged.error), 'a raw postMessage request is answered', forged);
  const sent = recordedRequests(record).slice(before);
  ok(sent.length === 1 && sent[0].command === 'get-signing-certificate' &&
    JSON.stringify(sent[0].arguments) === JSON.stringify({ origin: `http://localhost:${port}` }),
  'the agent gets the browser\'s origin; the page\'s origin and unknown arguments are dropped', sent);

  // Unknown commands stop in the extension: nothing more reaches the agent.
  const n = recordedRequests(record).length;
  const unknown = await evaluate(bidi, tab, () => new Promise((resolve) => {
    const id = 'u-' + Math.random();
    addEventListener('message', function h(e) {
      if (e.data && e.data.type === 'mx.llavero.response' && e.data.id === id) resolve(e.data);
    });
    postMessage({ type: 'mx.llavero.request', id, command: 'shell', arguments: {} }, location.origin);
  }));
  ok(unknown.error && unknown.error.code === 'bad-argument' && recordedRequests(record).length === n,
    'an unknown command is refused by the extension', unknown);

  // Errors are LlaveroError with a code; bad arguments never reach the agent.
  const bad = await inPageBidi(bidi, tab, (l) => l.authenticate('corto'));
  ok(!bad.ok && bad.error.isLlaveroError && bad.error.code === 'bad-argument',
    'a short nonce is refused in the page with bad-argument', bad);

  // Plain http on a name that is not loopback (llavero.test, which the
  // profile resolves to 127.0.0.1): not a secure context, refused in the
  // extension, nothing sent to the agent.
  const m = recordedRequests(record).length;
  const tab2 = await openTab(bidi, `http://llavero.test:${port}/`);
  const plain = await inPageBidi(bidi, tab2, (l) => l.version());
  ok(!plain.ok && plain.error.code === 'origin-not-allowed' && recordedRequests(record).length === m,
    'a plain-http page on a non-loopback name gets origin-not-allowed; the agent is not asked', plain);

  // Without the extension (uninstalled over BiDi): extension-unavailable.
  await bidi.send('webExtension.uninstall', { extension: id });
  const tab3 = await openTab(bidi, `http://localhost:${port}/`);
  const t0 = Date.now();
  const none = await inPageBidi(bidi, tab3, (l) => l.version());
  ok(!none.ok && none.error.code === 'extension-unavailable' && Date.now() - t0 < 10000,
    'without the extension llavero.version() fails with extension-unavailable', none);
} catch (e) {
  ok(false, 'Firefox run', String(e && e.stack || e));
  console.log(ff.log().split('\n').slice(-30).map((l) => '# ' + l).join('\n'));
} finally {
  await ff.close();
  server.close();
  const log = readText(join(scratch, 'host', 'agent.log'));
  if (log) console.log('# agent.log: ' + log.split('\n').slice(-5).join('\n# '));
}
done();
