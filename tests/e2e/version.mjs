// integration.web_version: a page on http://localhost:PORT asks
// llavero.version() through the extension; llavero-agent answers. Also: the
// readiness handshake, the extension's ID as Chromium computes it, the
// origin the agent receives is the browser's (not the page's claim), and a
// page without the extension gets extension-unavailable.
//   node version.mjs SCRATCH
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { launch, installNativeHost, agentEnv, extensionWorker, extensionId, serve, TEST_PAGE, inPage, ok, done, BUILD } from './lib.mjs';

const scratch = process.argv[2];
mkdirSync(scratch, { recursive: true });
const agent = process.env.LLAVERO_AGENT || join(BUILD, 'middleware/llavero-agent');

const server = await serve({ '/': TEST_PAGE });
const port = server.address().port;
const { context, userDataDir } = await launch(scratch);
try {
  installNativeHost(userDataDir, agent, agentEnv(scratch));
  const worker = await extensionWorker(context);
  ok(!!worker, `the extension runs with the ID fixed by its key (${extensionId()})`,
    context.serviceWorkers().map((w) => w.url()));

  // The background script's own checks, fed senders no content script would
  // produce (a fooled or compromised content script): none reaches the agent.
  if (worker) {
    const verdicts = await worker.evaluate(async () => {
      const req = { type: 'mx.llavero.request', command: 'authenticate',
        arguments: { challengeNonce: 'A'.repeat(44), origin: 'https://banco.example' } };
      const id = chrome.runtime.id;
      const cases = {
        'http://evil.example': { tab: {}, id, origin: 'http://evil.example' },
        'opaque (null)': { tab: {}, id, origin: 'null', url: 'https://banco.example/' },
        'file:': { tab: {}, id, url: 'file:///tmp/x.html' },
        'chrome-extension:': { tab: {}, id, origin: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop' },
        'no tab': { id, origin: 'https://banco.example' },
        'another extension': { tab: {}, id: 'abcdefghijklmnopabcdefghijklmnop', origin: 'https://banco.example' },
      };
      const out = {};
      for (const [k, sender] of Object.entries(cases)) {
        const r = await handle(req, sender);  // eslint-disable-line no-undef
        out[k] = r.error ? r.error.code : 'answered';
      }
      return out;
    });
    ok(verdicts['http://evil.example'] === 'origin-not-allowed' && verdicts['opaque (null)'] === 'origin-not-allowed' &&
      verdicts['file:'] === 'origin-not-allowed' && verdicts['chrome-extension:'] === 'origin-not-allowed' &&
      verdicts['no tab'] === 'not-allowed' && verdicts['another extension'] === 'not-allowed',
    'the background script refuses plain-http, opaque, file:, extension origins and senders without a tab', verdicts);
  }

  const page = await context.newPage();
  await page.goto(`http://localhost:${port}/`);
  const avail = await inPage(page, (l) => l.isAvailable());
  ok(avail.ok && avail.value === true, 'llavero.js sees the content script (readiness handshake)', avail);

  const v = await inPage(page, (l) => l.version());
  ok(v.ok && typeof v.value.version === 'string' && v.value.version.length > 0,
    'llavero.version() is answered by llavero-agent', v);
  if (v.ok) {
    console.log(`# agent ${v.value.version} (${v.value.appVersion || ''}), extension ${v.value.extensionVersion}, llavero.js ${v.value.library}`);
    ok(v.value.extensionVersion === '0.1.0' && v.value.library === '0.1.0', 'extension and library versions reported', v.value);
  }

  // Errors are LlaveroError with a code; bad arguments never reach the agent.
  const bad = await inPage(page, (l) => l.authenticate('corto'));
  ok(!bad.ok && bad.error.isLlaveroError && bad.error.code === 'bad-argument' && /no válido/.test(bad.error.message),
    'a short nonce is refused in the page with bad-argument (Spanish text)', bad);

  // A raw request that forges an origin: what the background script sends
  // the agent (recorded in the service worker) carries the browser's origin.
  if (worker) await worker.evaluate(() => {
    self.__sent = [];
    const real = callAgent;  // eslint-disable-line no-undef
    callAgent = (req, t) => { self.__sent.push(JSON.parse(JSON.stringify(req))); return real(req, t); };  // eslint-disable-line no-undef
  });
  const forged = await page.evaluate(() => new Promise((resolve) => {
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
  const sent = worker ? await worker.evaluate(() => self.__sent) : [];
  ok(forged && (forged.result || forged.error), 'a raw postMessage request is answered', forged);
  ok(sent.length === 1 && sent[0].command === 'get-signing-certificate' &&
    JSON.stringify(sent[0].arguments) === JSON.stringify({ origin: `http://localhost:${port}` }),
  'the agent gets the browser\'s origin; the page\'s origin and unknown arguments are dropped', sent);

  // Unknown commands stop in the extension.
  const unknown = await page.evaluate(() => new Promise((resolve) => {
    const id = 'u-' + Math.random();
    addEventListener('message', function h(e) {
      if (e.data && e.data.type === 'mx.llavero.response' && e.data.id === id) resolve(e.data);
    });
    postMessage({ type: 'mx.llavero.request', id, command: 'shell', arguments: {} }, location.origin);
  }));
  ok(unknown.error && unknown.error.code === 'bad-argument', 'an unknown command is refused by the extension', unknown);

  // English when the browser's language is English.
  const en = await context.newPage();
  await en.addInitScript(() => {
    Object.defineProperty(navigator, 'language', { get: () => 'en-US' });
    Object.defineProperty(navigator, 'languages', { get: () => ['en-US', 'en'] });
  });
  await en.goto(`http://localhost:${port}/`);
  const enBad = await inPage(en, (l) => l.sign('AAAA', 'AAAA', 'MD5'));
  ok(!enBad.ok && enBad.error.code === 'bad-argument' && /^Invalid argument/.test(enBad.error.message),
    'English messages when navigator.language is English', enBad);
  await en.close();
  await page.close();
} finally {
  await context.close();
  server.close();
}

// Without the extension (a plain Chromium): llavero.js times out cleanly.
{
  const { context: bare } = await launch(join(scratch, 'bare'), { extraArgs: [], noExtension: true });
  const s2 = await serve({ '/': TEST_PAGE });
  try {
    const page = await bare.newPage();
    await page.goto(`http://localhost:${s2.address().port}/`);
    const t0 = Date.now();
    const r = await inPage(page, (l) => l.version());
    ok(!r.ok && r.error.code === 'extension-unavailable' && Date.now() - t0 < 10000,
      'without the extension llavero.version() fails with extension-unavailable', r);
  } finally {
    await bare.close();
    s2.close();
  }
}
done();
