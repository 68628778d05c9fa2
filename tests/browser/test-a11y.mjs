// test-a11y.mjs — every page of civicard, checked in the browser for the
// people who use it with a keyboard, a screen reader, poor eyesight or a
// small phone:
//
//   - axe-core (from the npm registry, run inside chromium) on every page
//     and its error, result and confirmation states: no violation of
//     impact serious or critical (contrast, labels, names, landmarks,
//     language, ARIA); milder ones are printed, not failed;
//   - the keyboard: on each kind of page, Tab reaches every control in
//     order, each one visible and with a visible focus indicator, and the
//     first Tab stop is the skip link to the main content;
//   - the language switch is visible on every page, and the page says its
//     language (<html lang>);
//   - the public pages (log-in, residents' reprint form, verification,
//     error page) at 320 px: nothing sticks out sideways.
//
// Screenshots of every page checked: artifacts folder, a11y-*.png.
//
//   CIVICARD=build/civicard MAKE_PHOTO=build/tests/make-photo \
//     node --test tests/browser/test-a11y.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { AXE_SOURCE, Server, catalogue, issueByApi, launch, newPage, photoFile, shot, signIn,
	verdict } from './lib.mjs';

const CLERK = ['clerk-a11y', 'clerk a11y password'];       // invented
const ADMIN = ['admin-a11y', 'admin a11y password'];       // invented
const AUDITOR = ['auditor-a11y', 'auditor a11y password']; // invented
const DOB = '1979-11-30';
const EN = catalogue('en');
const DESK = { width: 1280, height: 900 };
const NARROW = { width: 320, height: 640 };

const server = new Server();
const problems = [];      // script errors, CSP refusals, requests elsewhere
const serious = [];       // axe violations, serious or critical
const milder = [];        // the others, printed at the end
const checked = [];       // every page checked, in order
let browser;
const cards = {};

before(async () => {
	await server.start();
	server.addUser(CLERK[0], CLERK[1], 'clerk');
	server.addUser(ADMIN[0], ADMIN[1], 'admin');
	server.addUser(AUDITOR[0], AUDITOR[1], 'auditor');
	const token = await server.token(...CLERK);
	cards.active = await issueByApi(server, token, 'Wanjiru Amaka', 'Kowalczyk-Ferreira', DOB);
	cards.revoked = await issueByApi(server, token, 'Ilse', 'Þórsdóttir', '1962-05-17');
	cards.reprint = await issueByApi(server, token, 'Rafael', 'Nakamura Lindqvist', '2003-08-21');
	let r = await server.api('POST', `/api/v1/cards/${cards.revoked.card_number}/revoke`,
		{ body: { reason: 'stolen' }, token });
	assert.equal(r.status, 200, r.text);
	r = await server.api('POST', '/api/v1/reprint-requests', { body: {
		card_number: cards.reprint.card_number, date_of_birth: '2003-08-21',
		reprint_code: cards.reprint.reprint_code, report_lost: false } });
	assert.equal(r.status, 202, r.text);
	browser = await launch();
});

after(async () => {
	if (browser)
		await browser.close();
	await server.stop();
});

// ---- the checks ----

async function axe(page, name) {
	if (!await page.evaluate(() => typeof window.axe === 'object'))
		await page.evaluate(AXE_SOURCE);
	const result = await page.evaluate(() => window.axe.run(document, {
		resultTypes: ['violations'],
	}));
	for (const v of result.violations) {
		const line = `${name}: ${v.id} (${v.impact}) ${v.help}: ` +
			v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ');
		(v.impact === 'serious' || v.impact === 'critical' ? serious : milder).push(line);
	}
}

// What every page must have: its language said, a visible switch.
async function basics(page, name, lang) {
	const b = await page.evaluate(() => {
		const nav = document.querySelector('nav.lang-switch, nav.langs');
		const r = nav && nav.getBoundingClientRect();
		return {
			lang: document.documentElement.lang,
			switchShown: !!(r && r.width > 0 && r.height > 0 && getComputedStyle(nav).visibility !== 'hidden'),
			switchLinks: nav ? nav.querySelectorAll('a[hreflang], [aria-current]').length : 0,
			title: document.title,
		};
	});
	assert.equal(b.lang, lang, `${name}: <html lang>`);
	assert.ok(b.switchShown, `${name}: the language switch is visible`);
	assert.ok(b.switchLinks >= 3, `${name}: the switch offers every language (${b.switchLinks})`);
	assert.ok(b.title.length > 0, `${name}: a title`);
}

// Tab through the page: every stop visible with a focus ring; the first
// one the skip link (on the pages with the site header).
async function keyboard(page, name, { skipLink = true } = {}) {
	// Start from the top of the page, as after loading it without autofocus.
	const fromTop = () => page.evaluate(() => {
		document.body.setAttribute('tabindex', '-1');
		document.body.focus();
		document.body.removeAttribute('tabindex');
		window.scrollTo(0, 0);
	});
	await fromTop();
	const stops = [];
	for (let i = 0; i < 120; i++) {
		await page.keyboard.press('Tab');
		const s = await page.evaluate(() => {
			const e = document.activeElement;
			if (!e || e === document.body)
				return null;
			const cs = getComputedStyle(e);
			const r = e.getBoundingClientRect();
			const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2) ||
				(cs.boxShadow && cs.boxShadow !== 'none');
			const label = e.id || e.getAttribute('href') || e.getAttribute('name') || e.tagName;
			return { key: e.outerHTML.slice(0, 80), label, visible: r.width > 0 && r.height > 0, ring,
				cls: e.className };
		});
		if (!s || (stops.length && s.key === stops[0].key))
			break;
		stops.push(s);
	}
	assert.ok(stops.length > 0, `${name}: Tab reaches something`);
	if (skipLink)
		assert.match(stops[0].cls, /skip-link/, `${name}: the first Tab stop is the skip link`);
	for (const s of stops) {
		assert.ok(s.visible, `${name}: Tab stop ${s.label} is visible`);
		assert.ok(s.ring, `${name}: Tab stop ${s.label} shows where the focus is`);
	}
	if (skipLink) {
		// The skip link leads into the main content.
		await fromTop();
		await page.keyboard.press('Tab');
		await page.keyboard.press('Enter');
		assert.equal(await page.evaluate(() => document.activeElement.id), 'main',
			`${name}: the skip link moves the focus to the main content`);
	}
	return stops.length;
}

async function noSidewaysScroll(page, name) {
	const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	assert.ok(over <= 0, `${name}: ${over} px stick out at ${page.viewportSize().width} px`);
}

// The whole check of one page as it is now.
async function check(page, name, { lang = 'en', tab = false, skipLink = true, narrow = false } = {}) {
	await basics(page, name, lang);
	await axe(page, name);
	if (narrow)
		await noSidewaysScroll(page, name);
	await shot(page, `a11y-${name}`);
	if (tab)
		await keyboard(page, name, { skipLink });
	checked.push(name);
}

async function go(page, path, expectStatus = 200) {
	const r = await page.goto(server.origin + path);
	assert.equal(r.status(), expectStatus, `GET ${path}`);
}

// Submit a form as it is, without the browser's own checks (required,
// min, type), so the server's answer with field errors shows.
async function submitRaw(page, formSelector) {
	await page.evaluate((sel) => { document.querySelector(sel).noValidate = true; }, formSelector);
	const [r] = await Promise.all([page.waitForNavigation(),
		page.click(`${formSelector} [type="submit"]`)]);
	return r.status();
}

async function context(viewport, locale = 'en-US') {
	const ctx = await browser.newContext({ viewport, locale });
	return { ctx, page: await newPage(ctx, server, problems) };
}

// ---- the pages ----

test('public pages: log-in, reprint request, verification, error page, at 320 px', async () => {
	const { ctx, page } = await context(NARROW);
	await go(page, '/login');
	await check(page, 'login', { tab: true, narrow: true });
	await page.fill('#username', 'nobody-here');
	await page.fill('#password', 'not the password');
	await Promise.all([page.waitForNavigation(), page.click('form.form [type="submit"]')]);
	assert.ok((await page.locator('#login-error').textContent()).includes(EN['login.error_invalid']));
	await check(page, 'login-wrong-password', { narrow: true });

	await go(page, '/reprint');
	await check(page, 'reprint', { tab: true, narrow: true });
	await page.fill('#card_number', 'ABC');
	assert.equal(await submitRaw(page, 'form.reprint-form'), 400);
	assert.equal(await page.getAttribute('#card_number', 'aria-invalid'), 'true');
	await check(page, 'reprint-field-errors', { narrow: true });
	await page.fill('#card_number', cards.active.card_number);
	await page.fill('#date_of_birth', DOB);
	await page.fill('#reprint_code', 'ABCD-EFGH-JKMN');
	await page.check('#report_lost-no');
	assert.equal(await submitRaw(page, 'form.reprint-form'), 422);
	await check(page, 'reprint-not-verified', { narrow: true });
	await page.fill('#reprint_code', cards.active.reprint_code);
	await page.check('#report_lost-no');
	await Promise.all([page.waitForNavigation(), page.click('form.reprint-form [type="submit"]')]);
	assert.match(await page.locator('.request-id').textContent(), /^\d+$/);
	await check(page, 'reprint-done', { narrow: true });

	await go(page, '/no-such-page', 404);
	await check(page, 'error-404', { tab: true, narrow: true });

	await page.goto(`${server.origin}/v`);
	await check(page, 'verify-idle', { narrow: true, tab: true, skipLink: false });
	for (const [name, card] of [['valid', cards.active], ['revoked', cards.revoked]]) {
		await page.goto('about:blank');
		await page.goto(card.qr_text);
		const v = await verdict(page);
		assert.equal(v.result, name);
		await check(page, `verify-${name}`, { narrow: true });
	}
	await page.goto('about:blank');
	await page.goto(cards.active.qr_text.slice(0, -6) + 'AAAAAA');
	assert.equal((await verdict(page)).result, 'invalid');
	await check(page, 'verify-invalid', { narrow: true });
	await ctx.close();
});

test('public pages in Spanish and French browsers', async () => {
	for (const [locale, lang] of [['es-MX', 'es'], ['fr-CA', 'fr']]) {
		const { ctx, page } = await context(NARROW, locale);
		await go(page, '/reprint');
		await check(page, `reprint-${lang}`, { lang, narrow: true });
		await page.goto(cards.active.qr_text);
		assert.equal((await verdict(page)).result, 'valid');
		await check(page, `verify-valid-${lang}`, { lang, narrow: true });
		await go(page, '/login');
		await check(page, `login-${lang}`, { lang, narrow: true });
		await ctx.close();
	}
});

test('an unknown page answers in the browser\'s language too', async () => {
	for (const [locale, lang] of [['es-MX', 'es'], ['fr-CA', 'fr']]) {
		const { ctx, page } = await context(NARROW, locale);
		await go(page, '/no-such-page', 404);
		await check(page, `error-404-${lang}`, { lang, narrow: true });
		await ctx.close();
	}
});

test('the clerk\'s pages', async () => {
	const { ctx, page } = await context(DESK);
	await signIn(page, server, ...CLERK);
	await check(page, 'clerk-dashboard', { tab: true });

	await go(page, '/cards/new');
	await check(page, 'card-new', { tab: true });
	await page.fill('#given_names', 'Li');
	await page.fill('#family_name', '');
	await page.fill('#date_of_birth', '2999-01-01');
	assert.equal(await submitRaw(page, 'form.card-form'), 400);
	assert.equal(await page.evaluate(() => document.activeElement.className), 'error-summary',
		'the error summary has the focus');
	await check(page, 'card-new-errors');

	await go(page, '/cards/new');
	await page.fill('#given_names', 'Oluwaseun');
	await page.fill('#family_name', 'Van der Berg-Ōtsuka');
	await page.fill('#date_of_birth', '1994-06-02');
	await page.setInputFiles('#photo', photoFile(server, 'a11y-new.jpg'));
	await page.check('#evidence-passport').catch(() => {});
	const [r] = await Promise.all([page.waitForNavigation(), page.click('form.card-form [type="submit"]')]);
	assert.equal(r.status(), 201);
	await check(page, 'card-issued-receipt', { tab: true });

	await go(page, `/cards/${cards.revoked.card_number}`);
	await check(page, 'card-view-revoked');

	await go(page, '/cards/search');
	await check(page, 'card-search', { tab: true });
	await page.fill('#family_name', 'kowalczyk-ferreira');
	await page.fill('#date_of_birth', DOB);
	await Promise.all([page.waitForNavigation(), page.click('form[action="/cards/search"][method="post"] [type="submit"]')]);
	assert.equal(await page.locator('.result-list li').count(), 1);
	await check(page, 'card-search-results');
	await go(page, '/cards/search?card_number=ZZZZ', 400);
	await check(page, 'card-search-bad-number');

	await go(page, `/cards/${cards.active.card_number}`);
	await check(page, 'card-view', { tab: true });
	await page.selectOption('#revoke-reason', '');
	assert.equal(await submitRaw(page, 'form.action-revoke'), 400);
	await check(page, 'card-revoke-errors');

	await go(page, '/requests');
	await check(page, 'requests', { tab: true });
	await go(page, '/password');
	await check(page, 'password', { tab: true });
	await page.fill('#current_password', 'wrong password here');
	await page.fill('#new_password', 'short');
	await page.fill('#confirm_password', 'short');
	assert.equal(await submitRaw(page, 'form[action="/password"]'), 400);
	await check(page, 'password-errors');

	await go(page, '/cards/new?lang=fr');
	await check(page, 'card-new-fr', { lang: 'fr' });
	await go(page, '/requests?lang=es');
	await check(page, 'requests-es', { lang: 'es' });
	await go(page, '/dashboard?lang=en');
	await ctx.close();
});

test('the administrator\'s and the auditor\'s pages', async () => {
	const { ctx, page } = await context(DESK);
	await signIn(page, server, ...ADMIN);
	await check(page, 'admin-dashboard', { tab: true });
	await go(page, '/users');
	await check(page, 'users', { tab: true });
	await page.fill('#username', 'Not Valid!');
	assert.equal(await submitRaw(page, 'form[action="/users"]'), 400);
	assert.equal(await page.getAttribute('#username', 'aria-invalid'), 'true');
	await check(page, 'users-errors');
	await page.fill('#username', 'amara.okafor');
	await page.check('#role-clerk');
	const [r] = await Promise.all([page.waitForNavigation(), page.click('form[action="/users"] [type="submit"]')]);
	assert.equal(r.status(), 201);
	const otp = await page.locator('.otp strong').textContent();
	await check(page, 'users-created');
	await go(page, '/audit');
	await check(page, 'audit-admin', { tab: true });
	await go(page, '/users?lang=fr');
	await check(page, 'users-fr', { lang: 'fr' });
	await ctx.close();

	// The new clerk's first sign-in: choose a password first.
	const first = await context(DESK);
	await signIn(first.page, server, 'amara.okafor', otp);
	assert.equal(new URL(first.page.url()).pathname, '/password');
	await check(first.page, 'password-first-sign-in', { tab: true });
	await first.ctx.close();

	const a = await context(DESK);
	await signIn(a.page, server, ...AUDITOR);
	await check(a.page, 'auditor-dashboard');
	await go(a.page, '/audit');
	await check(a.page, 'audit', { tab: true });
	await go(a.page, '/users', 403);
	await check(a.page, 'error-403');
	await a.ctx.close();
});

test('no serious or critical accessibility violation on any page', () => {
	console.log(`pages checked (${checked.length}): ${checked.join(', ')}`);
	if (milder.length)
		console.log(`milder axe findings (not failed):\n  ${milder.join('\n  ')}`);
	assert.deepEqual(serious, []);
	assert.ok(checked.length >= 38, `every page was checked (${checked.length})`);
});

test('no script error, CSP refusal or request away from the server', () => {
	assert.deepEqual(problems, []);
});
