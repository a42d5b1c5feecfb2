// integration.firefox_signin: acceptance 1's e.firma sign-in in Firefox ESR.
// Headless firefox-esr with the extension as a temporary add-on (WebDriver
// BiDi, tests/e2e/firefox.mjs) opens the llavero-idp demo portal ("Registro a
// la Beca Rita Cetina"), clicks "Entrar con Llave MX" then "Entrar con
// e.firma": llavero-agent asks the PIN (scripted pinentry) and signs with the
// e.firma on llavero-vcard (pcscd, llavero-pkcs11.so); the portal shows the
// right name, RFC and CURP. Then llavero.getSigningCertificate() +
// llavero.sign() give a signature that verifies with the card's certificate.
//   node --experimental-websocket firefox_signin.mjs SCRATCH
//   (inside run.sh: needs LLAVERO_E2E_IDP_URL, LLAVERO_AGENT)
import { join } from 'node:path';
import { createHash, X509Certificate, publicDecrypt, constants } from 'node:crypto';
import { agentEnv, pinentryScript, fixtures, ok, done, readText } from './lib.mjs';
import { launchFirefox, installFirefoxNativeHost, installExtension, openTab, navigate, evaluate, waitInPage, inPageBidi } from './firefox.mjs';

const T = process.argv[2];
const base = process.env.LLAVERO_E2E_IDP_URL;
const fx = fixtures();
const VCARD_PIN = '123456';

installFirefoxNativeHost(T, join(T, 'host'), process.env.LLAVERO_AGENT, agentEnv(T));
const ff = await launchFirefox(T);
const { bidi } = ff;
const identity = (ctx) => evaluate(bidi, ctx, () => {
  const t = (id) => { const e = document.getElementById(id); return e ? e.textContent.trim() : ''; };
  return { nombre: t('demo-nombre'), rfc: t('demo-rfc'), curp: t('demo-curp'), metodo: t('demo-metodo'), url: location.href };
}).catch((e) => ({ error: String(e) }));
try {
  console.log(`# ${ff.capabilities.browserName} ${ff.capabilities.browserVersion}, WebDriver BiDi`);
  ok(!!await installExtension(bidi), 'the extension is installed (temporary add-on)');

  // 1. The demo portal, "Entrar con Llave MX" -> the idp's sign-in page.
  const tab = await openTab(bidi, `${base}/demo`);
  const title = await evaluate(bidi, tab, () => document.title);
  ok(/Beca Rita Cetina/.test(title), 'the demo portal opens', title);
  await evaluate(bidi, tab, () => { document.getElementById('demo-entrar').click(); return true; });
  const onEntrar = await waitInPage(bidi, tab, () => /\/entrar/.test(location.pathname) && !!document.getElementById('btn-efirma'));
  ok(onEntrar, 'the sign-in page offers "Entrar con e.firma"');

  // 2. "Entrar con e.firma": the agent asks the PIN (scripted), the card signs.
  let shown = pinentryScript(T, [`pin ${VCARD_PIN}`]);
  await evaluate(bidi, tab, () => { document.getElementById('btn-efirma').click(); return true; });
  // The portal's elements exist before its deferred scripts (llavero.js) have
  // run: wait for both, or the signing step below races window.llavero.
  await waitInPage(bidi, tab, () => /\/demo$/.test(location.pathname) && !!document.getElementById('demo-rfc')
    && document.readyState === 'complete' && !!window.llavero, 60000);
  const d = await identity(tab);
  ok(d.rfc === fx.FIX_FISICA_RFC && d.curp === fx.FIX_FISICA_CURP,
    `the portal shows the e.firma's RFC ${d.rfc} and CURP ${d.curp}`, d);
  ok((d.nombre || '').toUpperCase().includes(fx.FIX_FISICA_NAME) && d.metodo === 'e.firma', 'name and method (e.firma)', d);
  const p1 = shown();
  ok(/GETPIN/.test(p1) && p1.includes(new URL(base).host), 'the PIN dialog showed the origin', p1);
  ok(p1.includes(fx.FIX_FISICA_RFC), 'the PIN dialog showed the holder\'s RFC', p1);

  // 3. Signing through the extension: a raw RSA signature over a hash,
  //    checked here with the signing certificate.
  const digest = createHash('sha256').update('Solicitud de beca, folio 0001').digest('base64');
  shown = pinentryScript(T, [`pin ${VCARD_PIN}`]);
  const sig = await inPageBidi(bidi, tab, async (l, hash) => {
    const c = await l.getSigningCertificate();
    const s = await l.sign(c.certificate, hash, 'SHA-256');
    return { certificate: c.certificate, signature: s.signature };
  }, digest);
  let verified = false;
  if (sig.ok) {
    const cert = new X509Certificate(Buffer.from(sig.value.certificate, 'base64'));
    const di = publicDecrypt({ key: cert.publicKey, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from(sig.value.signature, 'base64'));
    verified = di.subarray(di.length - 32).toString('base64') === digest && cert.subject.includes(fx.FIX_FISICA_RFC);
  }
  ok(verified, 'llavero.sign() signs the hash with the card\'s e.firma (verified with its certificate)', sig);
  ok(/SETDESC/.test(shown()), 'signing asked the PIN (no PIN cache)');
} catch (e) {
  ok(false, 'Firefox run', String(e && e.stack || e));
  console.log(ff.log().split('\n').slice(-30).map((l) => '# ' + l).join('\n'));
} finally {
  await ff.close();
  const log = readText(join(T, 'host', 'agent.log'));
  if (log) console.log('# agent.log: ' + log.split('\n').slice(-5).join('\n# '));
}
done();
