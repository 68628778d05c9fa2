// test-verify-page.mjs — the verification page (/v) in a real browser.
//
// Starts the real server (build/civicard serve, a temporary data folder),
// issues cards through the API as a clerk, and opens their QR texts in
// Debian's chromium through playwright-core: valid, revoked, tampered,
// expired (by the device's date), no keys or no status list (CANNOT
// CHECK), the pure-JavaScript Ed25519 fallback and its test vectors,
// French and Spanish browsers, the camera scan mode (with a stand-in
// BarcodeDetector), 320 px screens, and offline checking from the service
// worker's cache with the network cut and the server stopped.
// Screenshots of every step (phone size, 390×844) go to the artifacts
// folder printed at the start ($CIVICARD_ARTIFACTS, else a new temporary
// folder).
//
//   CIVICARD=build/civicard MAKE_PHOTO=build/tests/make-photo \
//     node --test tests/browser/test-verify-page.mjs
// (tests/browser/run does this for meson, after `npm ci`.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { ARTIFACTS, Server, issueByApi, launch, shot } from './lib.mjs';

console.log(`screenshots: ${ARTIFACTS}`);

const PHONE = { width: 390, height: 844 };
const CLERK = ['clerk-browser', 'clerk browser password'];   // invented
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

// ---- the server (lib.mjs) ----

const server = new Server();
let token = null;
let browser = null;
const cards = {};
const consoleProblems = [];

function tokenOf(card) {
	return card.qr_text.slice(card.qr_text.lastIndexOf('#') + 1);
}

// The QR text with one character of the token changed.
function tampered(card) {
	const t = tokenOf(card);
	const i = Math.floor(t.length / 2);
	const c = B32[(B32.indexOf(t[i]) + 7) % 32];
	return card.qr_text.slice(0, card.qr_text.length - t.length) + t.slice(0, i) + c + t.slice(i + 1);
}

// The QR text with the token's key id byte (docs/token-format.md) set to
// kid: a key the server does not have; the signature no longer matters.
function withKid(card, kid) {
	const t = tokenOf(card);
	const bytes = [];
	let acc = 0, bits = 0;
	for (const ch of t) {
		acc = (acc << 5) | B32.indexOf(ch);
		bits += 5;
		if (bits >= 8) {
			bytes.push((acc >> (bits - 8)) & 255);
			bits -= 8;
		}
		acc &= (1 << bits) - 1;
	}
	bytes[1] = kid;
	let out = '';
	acc = 0;
	bits = 0;
	for (const b of bytes) {
		acc = (acc << 8) | b;
		bits += 8;
		while (bits >= 5) {
			out += B32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
		acc &= (1 << bits) - 1;
	}
	if (bits > 0)
		out += B32[(acc << (5 - bits)) & 31];
	return card.qr_text.slice(0, card.qr_text.length - t.length) + out;
}

// ---- the browser ----

async function newContext(options = {}) {
	const context = await browser.newContext({ viewport: PHONE, locale: 'en-US', ...options });
	return context;
}

async function newPage(context) {
	const page = await context.newPage();
	page.on('console', (m) => {
		if (m.type() === 'error' || /Content Security Policy|Refused/.test(m.text()))
			consoleProblems.push(`${m.type()}: ${m.text()}`);
	});
	page.on('pageerror', (e) => consoleProblems.push(`pageerror: ${e.message}`));
	return page;
}

// Open url and wait for a result; returns what the page shows.
async function open(page, url) {
	// A new hash on the same page is a same-document navigation: forget
	// the result shown before, so the next one is waited for.
	await page.evaluate(() => document.documentElement.removeAttribute('data-result')).catch(() => {});
	await page.goto(url);
	return shown(page);
}

async function shown(page) {
	await page.waitForFunction(() => document.documentElement.hasAttribute('data-result'), null,
		{ timeout: 20000 });
	return page.evaluate(() => ({
		result: document.documentElement.getAttribute('data-result'),
		word: document.getElementById('result-word').textContent,
		sub: document.getElementById('result-sub').textContent,
		name: document.getElementById('d-name').textContent,
		dob: document.getElementById('d-dob').textContent,
		expires: document.getElementById('d-expires').textContent,
		number: document.getElementById('d-number').textContent,
		detailsShown: !document.getElementById('details').hidden,
		todoShown: !document.getElementById('todo').hidden,
		todo: document.getElementById('todo').innerText,
		freshness: document.getElementById('freshness').hidden ? null
			: document.getElementById('freshness').textContent,
		text: document.body.innerText,
		lang: document.documentElement.lang,
		hash: location.hash,
		engine: document.documentElement.getAttribute('data-engine'),
		bodyClass: document.body.className,
		overflow: document.documentElement.scrollWidth - window.innerWidth,
	}));
}

function fullName(card) {
	return `${card.given_names} ${card.family_name}`;
}

// ---- setup ----

before(async () => {
	await server.start();
	server.addUser(CLERK[0], CLERK[1], 'clerk');
	token = await server.token(CLERK[0], CLERK[1]);
	cards.valid = await issueByApi(server, token, 'Thị Ánh', 'Nguyễn', '1990-02-14');
	cards.revoked = await issueByApi(server, token, 'Amaru Inti', 'Quispe Mamani', '1985-07-30');
	cards.second = await issueByApi(server, token, 'Zoë', 'Ōkubo-Lindqvist', '2001-12-31');
	const rv = await server.api('POST', `/api/v1/cards/${cards.revoked.card_number}/revoke`,
		{ body: { reason: 'lost' }, token });
	assert.equal(rv.status, 200, `revoke: ${rv.text}`);
	browser = await launch();
});

after(async () => {
	if (browser)
		await browser.close();
	// The last test stops the server and checks its exit itself.
	await server.stop({ check: false });
});

// ---- the tests ----

test('the server sends the page and its service worker as it should', async () => {
	let r = await server.api('GET', '/v');
	assert.equal(r.status, 200);
	assert.match(r.headers.get('content-type'), /^text\/html/);
	assert.match(r.headers.get('cache-control'), /public, max-age=\d+/);
	assert.match(r.headers.get('content-security-policy'), /script-src 'self'/);
	assert.doesNotMatch(r.text, /<script>|<script [^>]*>[^<]|style=|\son[a-z]+=/,
		'no inline script, style attribute or event handler');
	for (const code of ['en', 'fr', 'es'])
		assert.match(r.text, new RegExp(`&quot;${code}&quot;:\\{`), `texts for ${code}`);
	r = await server.api('GET', '/sw.js');
	assert.equal(r.status, 200);
	assert.match(r.headers.get('content-type'), /^text\/javascript/);
	assert.equal(r.headers.get('cache-control'), 'no-cache');
	assert.match(r.text, /^self\.CIVICARD_VERSION = '[0-9a-f]{16}';\n/);
	const etag = r.headers.get('etag');
	r = await server.api('GET', '/sw.js', { headers: { 'If-None-Match': etag } });
	assert.equal(r.status, 304);
});

test('a valid card shows VALID with its name, and nothing about it reaches the server', async () => {
	const context = await newContext();
	const page = await newPage(context);
	const requests = [];
	page.on('request', (req) => requests.push({ url: req.url(), body: req.postData() || '' }));
	const s = await open(page, cards.valid.qr_text);
	await shot(page, '01-valid');
	assert.equal(s.result, 'valid', JSON.stringify(s));
	assert.equal(s.word, 'Valid');
	assert.equal(s.name, fullName(cards.valid));
	assert.equal(s.dob, '1990-02-14');
	assert.equal(s.expires, cards.valid.expires_on);
	assert.equal(s.number.replace(/-/g, ''), cards.valid.card_number);
	assert.equal(s.engine, 'webcrypto', 'this chromium has Ed25519 in WebCrypto');
	assert.match(s.freshness, /^Revocation list (up to date|from )/);
	assert.equal(s.hash, '', 'the token is taken out of the address');
	assert.ok(s.overflow <= 0, `no sideways scrolling (${s.overflow}px)`);
	// Only our own origin, never the token, the card number or the name.
	const t = tokenOf(cards.valid);
	for (const r of requests) {
		assert.ok(r.url.startsWith(server.origin + '/'), `third-party request: ${r.url}`);
		for (const secret of [t, t.slice(0, 40), cards.valid.card_number, encodeURIComponent('Nguyễn')])
			assert.ok(!r.url.includes(secret) && !r.body.includes(secret), `${r.url} carries the card`);
	}
	assert.ok(requests.some((r) => r.url.endsWith('/api/v1/status-list')), 'the status list was fetched');
	await context.close();
});

test('a revoked card shows REVOKED', async () => {
	const context = await newContext();
	const page = await newPage(context);
	const s = await open(page, cards.revoked.qr_text);
	await shot(page, '02-revoked');
	assert.equal(s.result, 'revoked', JSON.stringify(s));
	assert.equal(s.word, 'Revoked');
	assert.equal(s.bodyClass, 'state-revoked');
	assert.ok(s.todoShown);
	assert.match(s.todo, /Do not accept this card/);
	assert.match(s.todo, /Ask for another document/);
	assert.ok(s.todo.includes(`${server.origin}/reprint`), s.todo);
	await context.close();
});

test('a tampered token shows NOT GENUINE and no name', async () => {
	const context = await newContext();
	const page = await newPage(context);
	let s = await open(page, tampered(cards.valid));
	await shot(page, '03-not-genuine');
	assert.equal(s.result, 'invalid', JSON.stringify(s));
	assert.equal(s.word, 'Not genuine');
	assert.ok(!s.detailsShown);
	assert.equal(s.name, '');
	for (const part of ['Nguyễn', 'Thị', '1990-02-14', cards.valid.card_number.slice(0, 4)])
		assert.ok(!s.text.includes(part), `"${part}" shown for a card that is not genuine`);
	assert.match(s.todo, /Do not accept this card/);
	// Garbage, and a genuine card's token cut short, the same.
	for (const bad of ['hello', 'AAAA', tokenOf(cards.valid).slice(0, -1), tokenOf(cards.valid).toLowerCase()]) {
		await page.evaluate((h) => {
			document.documentElement.removeAttribute('data-result');
			location.hash = h;
		}, bad);
		s = await shown(page);
		assert.equal(s.result, 'invalid', bad);
		assert.equal(s.name, '');
	}
	// Then a genuine one in the same page (a hash change) is valid again.
	await page.evaluate((h) => { location.hash = h; }, tokenOf(cards.valid));
	await page.waitForFunction(() => document.documentElement.getAttribute('data-result') === 'valid');
	await context.close();
});

test('a card past its expiry date on this device shows EXPIRED', async () => {
	const context = await newContext();
	const page = await newPage(context);
	await page.clock.setFixedTime(new Date('2045-06-01T12:00:00'));
	const s = await open(page, cards.valid.qr_text);
	await shot(page, '04-expired');
	assert.equal(s.result, 'expired', JSON.stringify(s));
	assert.equal(s.word, 'Expired');
	assert.ok(s.sub.includes(cards.valid.expires_on), s.sub);
	// The device's clock is far ahead of the list's: it says so.
	assert.match(s.freshness, /Revocation list from .* ago — connect to refresh/);
	await context.close();
});

test('the JavaScript Ed25519 fallback: test vectors, and the same results', async () => {
	const context = await newContext();
	const page = await newPage(context);
	const fallback = (qr) => qr.replace('/v#', '/v?fallback=1#');
	let s = await open(page, fallback(cards.valid.qr_text));
	await shot(page, '05-fallback-valid');
	assert.equal(s.engine, 'fallback');
	assert.equal(s.result, 'valid', JSON.stringify(s));
	assert.equal(s.name, fullName(cards.valid));

	const vectors = await page.evaluate(async () => {
		const hex = (h) => Uint8Array.from(h.match(/../g).map((x) => parseInt(x, 16)));
		const E = window.CivicardEd25519;
		const out = {};
		// RFC 8032, 7.1, test 1: the empty message.
		const pk1 = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
		const sig1 = hex('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');
		out.rfc1 = await E.verify(pk1, new Uint8Array(0), sig1);
		out.rfc1OtherMessage = await E.verify(pk1, new Uint8Array([0]), sig1);
		const bad = sig1.slice();
		bad[63] ^= 0x01;
		out.rfc1BadSig = await E.verify(pk1, new Uint8Array(0), bad);
		// docs/token-format.md, test vector 1.
		const pk = hex('03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8');
		const payload = hex('010101b60f87c0aef30112d68780942d810a5468e1bb8b20c3816e68084e677579e1bb856e');
		const sig = hex('f9e71fa9a47c2092cbc713a8692bb8149e47c37c108c94af32948085e80f4f7a' +
			'7a2cf80a3175684682c47f47af704b1067391eaf18bce6eff7615b266d0a8001');
		const msg = new Uint8Array([...new TextEncoder().encode('civicard-token-v1'), ...payload]);
		out.token = await E.verify(pk, msg, sig);
		out.tokenWithoutContext = await E.verify(pk, payload, sig);
		const changed = msg.slice();
		changed[msg.length - 1] ^= 0x20;
		out.tokenChanged = await E.verify(pk, changed, sig);
		// WebCrypto agrees on the same vectors.
		const wc = async (p, m, s2) => crypto.subtle.verify('Ed25519',
			await crypto.subtle.importKey('raw', p, { name: 'Ed25519' }, false, ['verify']), s2, m);
		out.webcrypto = [await wc(pk1, new Uint8Array(0), sig1), await wc(pk, msg, sig), await wc(pk, changed, sig)];
		// The page's parser on the vector's token.
		const c = window.CivicardVerify.parseToken(
			'AEAQDNQPQ7AK54YBCLLIPAEUFWAQUVDI4G5YWIGDQFXGQCCOM52XTYN3QVXPTZY7VGSHYIESZPDRHKDJFO4BJHSHYN' +
			'6BBDEUV4ZJJAEF5AHU66T2FT4AUMLVNBDIFRD7I6XXASYQM44R5LYYXTTO753BLMTG2CUAAE');
		out.claims = c && {
			kid: c.kid, cardNumber: c.cardNumber, version: c.version, statusIndex: c.statusIndex,
			dateOfBirth: c.dateOfBirth, expiresOn: c.expiresOn, givenNames: c.givenNames,
			familyName: c.familyName, payload: Array.from(c.payload).map((x) => x.toString(16).padStart(2, '0')).join(''),
		};
		out.parsePadded = window.CivicardVerify.parseToken('AEAQDNQPQ7AK54YBCLLIPAEUFWAQUVDI4G5YWIGDQFXGQCCOM52XTYN3Q===');
		return out;
	});
	assert.deepEqual(vectors, {
		rfc1: true, rfc1OtherMessage: false, rfc1BadSig: false,
		token: true, tokenWithoutContext: false, tokenChanged: false,
		webcrypto: [true, true, false],
		claims: {
			kid: 1, cardNumber: 'K7QM4TXP9W2', version: 1, statusIndex: 1234567,
			dateOfBirth: '1990-02-14', expiresOn: '2031-11-23', givenNames: 'Thị Ánh', familyName: 'Nguyễn',
			payload: '010101b60f87c0aef30112d68780942d810a5468e1bb8b20c3816e68084e677579e1bb856e',
		},
		parsePadded: null,
	});

	s = await open(page, fallback(cards.revoked.qr_text));
	await shot(page, '05-fallback-revoked');
	assert.equal(s.engine, 'fallback');
	assert.equal(s.result, 'revoked', JSON.stringify(s));
	s = await open(page, fallback(tampered(cards.valid)));
	await shot(page, '05-fallback-not-genuine');
	assert.equal(s.result, 'invalid', JSON.stringify(s));
	assert.equal(s.name, '');
	await context.close();
});

test('French and Spanish browsers see their language, and the switch changes it', async () => {
	const expect = {
		'fr-CA': { lang: 'fr', valid: 'Valide', revoked: 'Révoquée', invalid: 'Non authentique', todo: 'N’acceptez pas cette carte' },
		'es-MX': { lang: 'es', valid: 'Válida', revoked: 'Revocada', invalid: 'No auténtica', todo: 'No acepte esta tarjeta' },
	};
	for (const [locale, e] of Object.entries(expect)) {
		const context = await newContext({ locale });
		const page = await newPage(context);
		let s = await open(page, cards.valid.qr_text);
		await shot(page, `06-${e.lang}-valid`);
		assert.equal(s.lang, e.lang);
		assert.equal(s.result, 'valid');
		assert.equal(s.word, e.valid);
		assert.equal(s.name, fullName(cards.valid));
		s = await open(page, cards.revoked.qr_text);
		await shot(page, `06-${e.lang}-revoked`);
		assert.equal(s.word, e.revoked);
		assert.ok(s.todo.includes(e.todo), s.todo);
		s = await open(page, tampered(cards.valid));
		assert.equal(s.word, e.invalid);
		// The switch: English, then back; the choice is kept for the next page.
		await page.click('[data-lang="en"]');
		assert.equal(await page.textContent('#result-word'), 'Not genuine');
		assert.equal(await page.getAttribute('html', 'lang'), 'en');
		const next = await newPage(context);
		s = await open(next, cards.valid.qr_text);
		assert.equal(s.word, 'Valid', 'the switch is remembered');
		assert.equal(s.lang, 'en');
		await next.click(`[data-lang="${e.lang}"]`);
		assert.equal(await next.textContent('#result-word'), e.valid);
		await context.close();
	}
});

test('a 320 px screen: nothing sticks out, in the longest language', async () => {
	const context = await newContext({ locale: 'fr-CA', viewport: { width: 320, height: 640 } });
	const page = await newPage(context);
	for (const [name, qr] of [['valid', cards.valid.qr_text], ['invalid', tampered(cards.valid)],
		['revoked', cards.revoked.qr_text]]) {
		const s = await open(page, qr);
		await shot(page, `07-320px-${name}`);
		assert.ok(s.overflow <= 0, `${name}: ${s.overflow}px too wide`);
	}
	await page.goto(server.origin + '/v');
	await page.waitForSelector('#idle:not([hidden])');
	await shot(page, '07-320px-idle');
	await context.close();
});

test('scan mode: the camera button, a scanned card, "scan next"', async () => {
	// Without BarcodeDetector (chromium on Linux has none) there is no button.
	let context = await newContext();
	let page = await newPage(context);
	await page.goto(server.origin + '/v');
	await page.waitForSelector('#idle:not([hidden])');
	await shot(page, '08-idle');
	if (!(await page.evaluate(() => 'BarcodeDetector' in window)))
		assert.equal(await page.isVisible('#scan'), false);
	await context.close();

	// With a stand-in detector that "sees" what the test puts in front of
	// the camera (chromium's fake camera supplies the video).
	context = await newContext();
	await context.grantPermissions(['camera']);
	await context.addInitScript(() => {
		window.__qr = null;
		window.BarcodeDetector = class {
			static async getSupportedFormats() { return ['qr_code']; }
			constructor(o) { this.formats = o.formats; }
			async detect() {
				const q = window.__qr;
				window.__qr = null;
				return q ? [{ rawValue: q, format: 'qr_code' }] : [];
			}
		};
	});
	page = await newPage(context);
	await page.goto(server.origin + '/v');
	await page.waitForSelector('#scan:not([hidden])');
	assert.equal(await page.textContent('#scan'), 'Scan a card');
	await page.click('#scan');
	await page.waitForSelector('#scanner:not([hidden])');
	await page.waitForFunction(() => document.getElementById('video').readyState >= 2);
	await shot(page, '08-scanning');
	await page.evaluate((q) => { window.__qr = q; }, cards.valid.qr_text);
	let s = await shown(page);
	assert.equal(s.result, 'valid');
	assert.equal(s.name, fullName(cards.valid));
	assert.equal(s.hash, '', 'a scanned token never goes into the address');
	assert.equal(await page.textContent('#scan'), 'Scan the next card');
	assert.equal(await page.evaluate(() => document.getElementById('video').srcObject), null, 'camera off');
	await shot(page, '08-scanned-valid');
	await page.click('#scan');
	await page.waitForSelector('#scanner:not([hidden])');
	assert.equal(await page.evaluate(() => document.documentElement.hasAttribute('data-result')), false);
	await page.evaluate((q) => { window.__qr = q; }, cards.revoked.qr_text);
	s = await shown(page);
	assert.equal(s.result, 'revoked');
	await shot(page, '08-scanned-revoked');
	await context.close();
});

test('without keys or status list it says CANNOT CHECK, never NOT GENUINE, and shows no name', async () => {
	// No service worker here, so that the test's network rules apply.
	const context = await newContext({ serviceWorkers: 'block' });
	let page = await newPage(context);
	await page.route('**/api/v1/keys', (route) => route.abort('internetdisconnected'));
	let s = await open(page, cards.valid.qr_text);
	await shot(page, '10-cannot-check-no-keys');
	assert.equal(s.result, 'unchecked', JSON.stringify(s));
	assert.equal(s.word, 'Cannot check');
	assert.match(s.sub, /does not have the city’s keys/);
	assert.equal(s.name, '');
	assert.ok(!s.text.includes('Nguyễn'));
	assert.match(s.text, /Connect to the internet/);
	await page.close();

	page = await newPage(context);
	await page.route('**/api/v1/status-list', (route) => route.abort('internetdisconnected'));
	s = await open(page, cards.valid.qr_text);
	await shot(page, '10-cannot-check-no-status');
	assert.equal(s.result, 'unchecked', JSON.stringify(s));
	assert.match(s.sub, /could not check whether it was cancelled/);
	assert.equal(s.name, '');
	// A tampered card is still NOT GENUINE: the signature needs no list.
	s = await open(page, tampered(cards.valid));
	assert.equal(s.result, 'invalid');
	// A status list whose signature does not hold is not used.
	await page.unroute('**/api/v1/status-list');
	await page.route('**/api/v1/status-list', async (route) => {
		const r = await route.fetch();
		const doc = await r.json();
		doc.bits = doc.bits.slice(0, -2) + (doc.bits.endsWith('AA') ? 'AB' : 'AA');
		await route.fulfill({ response: r, json: doc });
	});
	s = await open(page, cards.revoked.qr_text);
	assert.equal(s.result, 'unchecked', 'a forged list is ignored: ' + JSON.stringify(s));
	await page.close();

	// A key id the server does not have: NOT GENUINE when the server says
	// so, CANNOT CHECK when it cannot be asked (a newer key, perhaps).
	page = await newPage(context);
	s = await open(page, withKid(cards.valid, 77));
	assert.equal(s.result, 'invalid', JSON.stringify(s));
	s = await open(page, cards.valid.qr_text);
	assert.equal(s.result, 'valid');
	await page.route('**/api/v1/keys', (route) => route.abort('internetdisconnected'));
	s = await open(page, withKid(cards.valid, 77));
	await shot(page, '10-cannot-check-new-key');
	assert.equal(s.result, 'unchecked', JSON.stringify(s));
	assert.match(s.sub, /newer city key/);
	assert.equal(s.name, '');
	await context.close();
});

// Last: it stops the server.
test('offline: after one load, another card verifies from the service worker cache', async () => {
	const context = await newContext();
	const page = await newPage(context);
	let s = await open(page, cards.valid.qr_text);
	assert.equal(s.result, 'valid');
	// The worker controls the page and holds the keys and the status list.
	await page.waitForFunction(() => navigator.serviceWorker.controller &&
		document.documentElement.getAttribute('data-offline') === 'ready', null, { timeout: 20000 });
	const cached = await page.evaluate(async () => {
		const names = await caches.keys();
		const out = [];
		for (const n of names)
			for (const r of await (await caches.open(n)).keys())
				out.push(new URL(r.url).pathname);
		return { names, paths: out.sort() };
	});
	assert.equal(cached.names.length, 1);
	assert.match(cached.names[0], /^civicard-verify-[0-9a-f]{16}$/);
	assert.deepEqual(cached.paths, ['/api/v1/keys', '/api/v1/status-list', '/static/ed25519.js',
		'/static/verify.css', '/static/verify.js', '/v']);
	await shot(page, '09-online-first-load');

	// Cut the network, and stop the server too, so nothing can answer but
	// the worker's cache.
	await context.setOffline(true);
	const exit = await server.stop({ check: false });
	assert.equal(exit.code, 0, 'the server stops cleanly: ' + server.stderr.slice(-20).join('\n'));

	const second = await newPage(context);
	const fromWorker = [];
	second.on('response', (r) => fromWorker.push([new URL(r.url()).pathname, r.fromServiceWorker()]));
	const nav = await second.goto(cards.second.qr_text);
	assert.ok(nav.fromServiceWorker(), 'the page itself comes from the service worker');
	s = await shown(second);
	await shot(second, '09-offline-second-card');
	for (const p of ['/v', '/static/verify.js', '/static/ed25519.js', '/static/verify.css',
		'/api/v1/keys', '/api/v1/status-list']) {
		const seen = fromWorker.filter(([q]) => q === p);
		assert.ok(seen.length > 0 && seen.every(([, w]) => w), `${p} from the service worker: ${JSON.stringify(seen)}`);
	}
	assert.equal(s.result, 'valid', JSON.stringify(s));
	assert.equal(s.name, fullName(cards.second));
	assert.match(s.freshness, /^Revocation list (up to date|from )/);
	// The revoked card is still known as revoked, offline.
	s = await open(second, cards.revoked.qr_text);
	assert.equal(s.result, 'revoked');
	// And the fallback page, from the same cache.
	s = await open(second, cards.second.qr_text.replace('/v#', '/v?fallback=1#'));
	assert.equal(s.result, 'valid');
	assert.equal(s.engine, 'fallback');
	await context.close();
});

test('no Content Security Policy violation and no script error anywhere', () => {
	const real = consoleProblems.filter((m) => !/net::ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(m));
	assert.deepEqual(real, []);
});
