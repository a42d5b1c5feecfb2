// The browser part of scripts/demo.sh (run by inside.sh in the pcsc
// harness, like the e2e tests): headless Chromium with the Llavero extension
// and llavero-agent opens the llavero-idp demo portal "Registro a la Beca
// Rita Cetina", signs in with the e.firma on the simulated card, then with
// the simulated security key through the agent's FIDO bridge, and says who
// the portal shows as signed in, read from the page. PINs come from the test
// pinentry (tests/e2e/pinentry.py), as the output says.
//   node demo.mjs SCRATCH   (needs LLAVERO_E2E_IDP_URL, LLAVERO_E2E_VKEY_SOCKET,
//                            LLAVERO_AGENT, LLAVERO_DEMO_DIR: where portal.png
//                            and quien-entro.txt go)
import { join, relative } from 'node:path';
import { writeFileSync } from 'node:fs';
import {
  launch, installNativeHost, extensionWorker, extensionId, agentEnv, pinentryScript, fixtures,
  portalIdentity, registerKeyThroughAgent, signInWithKeyThroughAgent, signOutOfPortal, HOST_NAME, SRC,
} from './lib.mjs';

const T = process.argv[2];
const OUT = process.env.LLAVERO_DEMO_DIR || T;
const base = process.env.LLAVERO_E2E_IDP_URL;
const fx = fixtures();
const VCARD_PIN = '123456';
const VKEY_PIN = '4321';

const tty = process.env.LLAVERO_DEMO_COLOR === '1';
const [B, G, R, N] = tty ? ['\x1b[1m', '\x1b[32m', '\x1b[31m', '\x1b[0m'] : ['', '', '', ''];
const say = (s) => console.log(s);
const step = (s) => console.log(`\n${B}${s}${N}`);
const good = (s) => console.log(`  ${G}✔${N} ${s}`);
const rel = (p) => (relative(SRC, p).startsWith('..') ? p : relative(SRC, p));
class DemoError extends Error {}
const need = (cond, what) => { if (!cond) throw new DemoError(what); };

// What the PIN dialog showed since `mark`, as the person would read it.
function dialog(shownText) {
  const m = shownText.match(/SETDESC ([\s\S]*?)\nSETPROMPT/);
  if (m) for (const line of m[1].split('\n')) say(`      │ ${line}`);
}

say(`  servidor / server: llavero-idp en ${base} (portal de demostración: ${base}/demo)`);
say(`  llave de seguridad / security key: llavero-vkey en ${rel(process.env.LLAVERO_E2E_VKEY_SOCKET)}, PIN ${VKEY_PIN}`);

const who = [];
let rc = 0;
let context;
try {
  step('5. Chromium con la extensión Llavero (headless Chromium with the extension)');
  let userDataDir;
  try {
    ({ context, userDataDir } = await launch(T));
  } catch (e) {
    writeFileSync(join(T, 'chromium-error.log'), String((e && e.stack) || e));
    throw new DemoError(`Chromium no arrancó (Chromium did not start): ${String(e && e.message).split('\n')[0]}` +
      ` (${rel(join(T, 'chromium-error.log'))})`);
  }
  installNativeHost(userDataDir, process.env.LLAVERO_AGENT, agentEnv(T, {
    LLAVERO_VKEY_SOCKETS: process.env.LLAVERO_E2E_VKEY_SOCKET,
  }));
  need(await extensionWorker(context), 'la extensión no cargó (the extension did not load)');
  good(`extensión web/extension cargada, ID ${extensionId()} (extension loaded)`);
  good(`agente nativo ${HOST_NAME} -> llavero-agent (native messaging host)`);
  say(`    Los PIN los escribe el pinentry de prueba tests/e2e/pinentry.py, no una persona`);
  say(`    (PINs are typed by the scripted test pinentry, not a person).`);
  const page = await context.newPage();
  page.setDefaultTimeout(30000);

  step('6. Entrar al portal con la e.firma de la tarjeta (sign in with the e.firma on the card)');
  await page.goto(`${base}/demo`);
  const title = await page.title();
  need(/Beca Rita Cetina/.test(title), `el portal no abrió (portal did not open): ${title}`);
  good(`abre ${base}/demo: «${title}» (opens the portal)`);
  await Promise.all([page.waitForURL(/\/entrar/), page.click('#demo-entrar')]);
  good('clic en «Entrar con Llave MX»: página de entrada de llavero-idp (sign-in page)');
  let shown = pinentryScript(T, [`pin ${VCARD_PIN}`]);
  await Promise.all([
    page.waitForURL(/\/demo$/, { timeout: 60000 }).catch(() => {}),
    page.click('#btn-efirma'),
  ]);
  say('  → clic en «Entrar con e.firma»; el agente pide el PIN de la tarjeta y muestra');
  say('    (clicked "Entrar con e.firma"; the agent asks for the card PIN and shows):');
  dialog(shown());
  good(`PIN ${VCARD_PIN} (pinentry de prueba / scripted); la tarjeta firmó el reto con la llave de 9A`);
  let d = await portalIdentity(page);
  const msg = await page.evaluate(() => document.getElementById('msg')?.textContent.trim() || '').catch(() => '');
  need(d.rfc && d.metodo === 'e.firma', `el portal no muestra a nadie (portal shows no one): ${msg || page.url()}`);
  good('el portal muestra quién entró (the portal shows who signed in):');
  say(`      Nombre: ${d.nombre}\n      RFC:    ${d.rfc}\n      CURP:   ${d.curp}\n      Cómo entró: ${d.metodo}`);
  who.push(d);
  const png = join(OUT, 'portal.png');
  await page.screenshot({ path: png, fullPage: true });
  good(`captura del portal / screenshot: ${rel(png)}`);

  step('7. Entrar con la llave de seguridad (sign in with the security key, through the agent\'s FIDO bridge)');
  await page.goto(`${base}/cuenta`);
  shown = pinentryScript(T, [`pin ${VKEY_PIN}`, `pin ${VKEY_PIN}`]);
  const reg = await registerKeyThroughAgent(page);
  need(reg.ok && reg.value.r.status === 'ok', `no se registró la llave (key not registered): ${JSON.stringify(reg)}`);
  say('  → la llave se registra en la cuenta (con la sesión de la e.firma); el agente muestra');
  say('    (the key is registered on the account signed in with the e.firma; the agent shows):');
  dialog(shown());
  good(`PIN de la llave ${VKEY_PIN} (pinentry de prueba / scripted): llavero-vkey registrada (key registered)`);
  await signOutOfPortal(page, base);
  need(!(await page.isVisible('#demo-rfc')), 'no se pudo salir del portal (could not sign out)');
  good('salir del portal y de llavero-idp (signed out)');
  await Promise.all([page.waitForURL(/\/entrar/), page.click('#demo-entrar')]);
  shown = pinentryScript(T, [`pin ${VKEY_PIN}`]);
  const login = await signInWithKeyThroughAgent(page);
  need(login.ok && login.value.status === 'ok', `no se entró con la llave (key sign-in failed): ${JSON.stringify(login)}`);
  good(`«Entrar con Llave MX» con la llave, PIN ${VKEY_PIN} (pinentry de prueba / scripted)`);
  await page.goto(`${base}/continuar`);
  await page.waitForURL(/\/demo$/).catch(() => {});
  d = await portalIdentity(page);
  need(d.rfc && d.metodo === 'llave de seguridad', `el portal no muestra a nadie (portal shows no one): ${page.url()}`);
  good('el portal muestra quién entró (the portal shows who signed in):');
  say(`      Nombre: ${d.nombre}\n      RFC:    ${d.rfc}\n      CURP:   ${d.curp}\n      Cómo entró: ${d.metodo}`);
  who.push(d);
  await page.screenshot({ path: join(OUT, 'portal-llave.png'), fullPage: true });

  // What scripts/demo.sh prints at the end: the portal's words, not ours.
  const same = who.every((w) => w.rfc === who[0].rfc && w.curp === who[0].curp && w.nombre === who[0].nombre);
  need(same, `la e.firma y la llave dieron personas distintas (different people): ${JSON.stringify(who)}`);
  writeFileSync(join(OUT, 'quien-entro.txt'),
    `  Nombre: ${who[0].nombre}\n  RFC:    ${who[0].rfc}\n  CURP:   ${who[0].curp}\n` +
    `  Entró con / signed in with: ${who.map((w) => w.metodo).join(', ')}\n`);
  if (fx.FIX_FISICA_RFC && (who[0].rfc !== fx.FIX_FISICA_RFC || who[0].curp !== fx.FIX_FISICA_CURP))
    throw new DemoError(`el portal muestra otra persona que la de la e.firma (not the e.firma's holder): ${JSON.stringify(who[0])}`);
} catch (e) {
  if (!(e instanceof DemoError)) writeFileSync(join(T, 'demo-error.log'), String((e && e.stack) || e));
  console.log(`  ${R}✘ ${e instanceof DemoError ? e.message : String(e && e.message).split('\n')[0]}${N}`);
  console.log(`    registros / logs: ${rel(join(T, 'profile/agent.log'))}, ${rel(join(T, 'idp.log'))}, ${rel(join(T, 'pinentry.log'))}`);
  rc = 1;
} finally {
  if (context) await context.close();
}
process.exitCode = rc;
