// test-e2e.mjs — a card's life through the browser, end to end, as the
// people who use civicard see it:
//
//   1. a clerk signs in with the keyboard and issues a card through the
//      form, the photo taken with the webcam (chromium's stand-in camera);
//   2. the card page offers the CR80 PDF and the office sheets, and the
//      receipt with the reprint code prints on a page of its own;
//   3. a counter opens the card's verification URL on a phone: VALID;
//   4. the resident, on a 320 px phone, asks for a reprint with the
//      receipt's code;
//   5. the clerk approves it in the reprint queue and gets the new card;
//   6. the old card's URL now says REVOKED, the new one VALID;
//   7. with the keyboard only, the clerk finds the card by name and date
//      of birth and revokes it.
//
// Screenshots of every step go to the artifacts folder (e2e-NN-*.png),
// with the print previews as PDFs.
//
//   CIVICARD=build/civicard MAKE_PHOTO=build/tests/make-photo \
//     node --test tests/browser/test-e2e.mjs
// (tests/browser/run does this for meson, after `npm ci`.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { ARTIFACTS, Server, catalogue, launch, newPage, shot, signIn, verdict } from './lib.mjs';

const CLERK = ['clerk-e2e', 'clerk e2e password'];   // invented
const RESIDENT = { given: 'Aiyana Thị', family: 'Nguyễn-Oyelaran', dob: '1987-03-09' };   // invented
const EN = catalogue('en');
const PHONE = { width: 390, height: 844 };
const DESK = { width: 1280, height: 900 };

const server = new Server();
const problems = [];
let browser, clerkCtx, clerk;
const state = {};

before(async () => {
	await server.start();
	server.addUser(CLERK[0], CLERK[1], 'clerk');
	browser = await launch();
	clerkCtx = await browser.newContext({ viewport: DESK, locale: 'en-US' });
	await clerkCtx.grantPermissions(['camera'], { origin: server.origin });
	clerk = await newPage(clerkCtx, server, problems);
});

after(async () => {
	if (browser)
		await browser.close();
	await server.stop();
});

// Pages in order of a PDF made by chromium's print (page objects).
function pdfPages(buf) {
	return (buf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) || []).length;
}

test('a card from issue to reprint, through the browser', async (t) => {
	await t.test('1. the clerk signs in and issues a card with the webcam', async () => {
		await signIn(clerk, server, ...CLERK);
		assert.equal(new URL(clerk.url()).pathname, '/dashboard');
		await shot(clerk, 'e2e-01-dashboard');
		// From the dashboard to the form with the keyboard: its link.
		await clerk.focus('a[href="/cards/new"]');
		await Promise.all([clerk.waitForNavigation(), clerk.keyboard.press('Enter')]);
		assert.equal(new URL(clerk.url()).pathname, '/cards/new');
		// The first field has the focus; Tab follows the form's order.
		assert.equal(await clerk.evaluate(() => document.activeElement.id), 'given_names');
		await clerk.keyboard.type(RESIDENT.given);
		await clerk.keyboard.press('Tab');
		assert.equal(await clerk.evaluate(() => document.activeElement.id), 'family_name');
		await clerk.keyboard.type(RESIDENT.family);
		await clerk.keyboard.press('Tab');
		assert.equal(await clerk.evaluate(() => document.activeElement.id), 'date_of_birth');
		// Chromium's date field (en-US): month, day, year, each part
		// moving on to the next when full.
		const [y, m, d] = RESIDENT.dob.split('-');
		await clerk.keyboard.type(m + d + y);
		assert.equal(await clerk.inputValue('#date_of_birth'), RESIDENT.dob, 'the date typed in');
		// Tab past the date's parts to the photo, then the camera button.
		for (let i = 0; i < 6 && await clerk.evaluate(() => document.activeElement.id) !== 'camera-start'; i++)
			await clerk.keyboard.press('Tab');
		assert.equal(await clerk.evaluate(() => document.activeElement.id), 'camera-start',
			'the camera button comes right after the file field');
		await clerk.keyboard.press('Enter');
		await clerk.waitForFunction(() => {
			const v = document.getElementById('camera-video');
			return v && v.readyState >= 2 && v.videoWidth > 0;
		}, null, { timeout: 15000 });
		assert.equal(await clerk.evaluate(() => document.activeElement.id), 'camera-take',
			'the focus moves to "Take the photo"');
		await shot(clerk, 'e2e-02-camera-on');
		await clerk.keyboard.press('Space');
		await clerk.waitForFunction(() => document.getElementById('photo').files.length === 1);
		const taken = await clerk.evaluate(() => ({
			type: document.getElementById('photo').files[0].type,
			status: document.getElementById('camera-status').textContent,
			preview: !document.getElementById('photo-preview').hidden,
			focus: document.activeElement.id,
			cameraOff: document.getElementById('camera-live').hidden,
		}));
		assert.deepEqual(taken, { type: 'image/jpeg', status: EN['card.camera.taken'], preview: true,
			focus: 'camera-start', cameraOff: true });
		await shot(clerk, 'e2e-03-photo-taken');
		// Enter in a text field sends the form.
		await clerk.focus('#address');
		await clerk.keyboard.type('c/o Community Centre, 12 Example Street');
		const [answer] = await Promise.all([
			clerk.waitForNavigation(),
			clerk.keyboard.press('Enter'),
		]);
		assert.equal(answer.status(), 201, 'the card was issued');
		const issued = await clerk.evaluate(() => ({
			notice: document.querySelector('.notice-success')?.innerText || '',
			number: document.querySelector('.receipt-fields div:nth-child(1) dd')?.textContent,
			code: document.querySelector('.reprint-code')?.textContent,
			photo: document.querySelector('img.card-photo')?.naturalWidth,
			url: location.pathname,
			family: [...document.querySelectorAll('dd.printed')].map((d) => d.textContent),
		}));
		assert.match(issued.notice, new RegExp(EN['card.view.issued'].slice(0, 20)));
		assert.match(issued.number, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{3}$/);
		assert.match(issued.code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
		assert.equal(issued.photo, 240, 'the photo from the webcam, re-encoded at 240 px');
		assert.deepEqual(issued.family, [RESIDENT.family, RESIDENT.given]);
		assert.equal(issued.url, `/cards/${issued.number.replaceAll('-', '')}`,
			'the address is the card\'s own: a reload does not issue again');
		state.number = issued.number.replaceAll('-', '');
		state.code = issued.code;
		await shot(clerk, 'e2e-04-card-issued');
	});

	await t.test('2. the card page offers both PDFs; the receipt prints on its own page', async () => {
		const links = await clerk.evaluate(() => [...document.querySelectorAll('a[href*="/pdf"]')]
			.map((a) => ({ href: a.getAttribute('href'), text: a.textContent })));
		const want = [['', 'card.view.pdf_card'], ['?format=sheet', 'card.view.pdf_a4'],
			['?format=letter', 'card.view.pdf_letter']];
		for (const [q, key] of want) {
			const l = links.find((x) => x.href === `/cards/${state.number}/pdf${q}`);
			assert.ok(l && l.text.startsWith(EN[key]), `a link: ${EN[key]}`);
			const r = await clerk.request.get(server.origin + l.href);
			assert.equal(r.status(), 200, l.href);
			assert.equal(r.headers()['content-type'], 'application/pdf');
			const pdf = await r.body();
			assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
			fs.writeFileSync(path.join(ARTIFACTS, `e2e-05-card${q ? '-' + q.slice(8) : '-cr80'}.pdf`), pdf);
		}
		// What the office printer gets from the page: the card's details,
		// then the receipt on a page of its own; and the receipt alone.
		try {
			await clerk.emulateMedia({ media: 'print' });
			const printed = await clerk.evaluate(() => {
				const r = document.querySelector('.receipt');
				const cs = getComputedStyle(r);
				const hidden = (sel) => [...document.querySelectorAll(sel)]
					.every((e) => getComputedStyle(e).display === 'none');
				return { breakBefore: cs.breakBefore, shown: cs.display !== 'none',
					chromeHidden: hidden('.site-header') && hidden('.card-actions') && hidden('button') };
			});
			assert.deepEqual(printed, { breakBefore: 'page', shown: true, chromeHidden: true });
			const whole = await clerk.pdf({ format: 'A4' });
			fs.writeFileSync(path.join(ARTIFACTS, 'e2e-05-print-card-page.pdf'), whole);
			assert.ok(pdfPages(whole) >= 2, `the receipt on a page of its own: ${pdfPages(whole)} pages`);
			// "Print the receipt" (keyboard) prints the receipt alone.
			await clerk.emulateMedia({ media: 'screen' });
			await clerk.evaluate(() => { window.print = () => {}; });
			await clerk.focus('button[data-print="receipt"]');
			await clerk.keyboard.press('Enter');
			assert.ok(await clerk.evaluate(() => document.body.classList.contains('print-receipt')));
			await clerk.emulateMedia({ media: 'print' });
			const alone = await clerk.evaluate(() => [...document.querySelectorAll('main > *')]
				.filter((e) => getComputedStyle(e).display !== 'none').map((e) => e.className));
			assert.deepEqual(alone, ['receipt'], 'nothing but the receipt is printed');
			const receipt = await clerk.pdf({ format: 'A4' });
			fs.writeFileSync(path.join(ARTIFACTS, 'e2e-05-print-receipt.pdf'), receipt);
			assert.equal(pdfPages(receipt), 1, 'the receipt alone fits one page');
		} finally {
			await clerk.evaluate(() => document.body.classList.remove('print-receipt'));
			await clerk.emulateMedia({ media: null });
		}
	});

	await t.test('3. a counter opens the card\'s verification URL: VALID', async () => {
		const token = await server.token(...CLERK);
		const card = (await server.api('GET', `/api/v1/cards/${state.number}`, { token })).json;
		assert.equal(card.version, 1);
		state.qr1 = card.qr_text;
		assert.ok(state.qr1.startsWith(`${server.origin}/v#`), state.qr1);
		const ctx = await browser.newContext({ viewport: PHONE, locale: 'en-US' });
		const phone = await newPage(ctx, server, problems);
		await phone.goto(state.qr1);
		const v = await verdict(phone);
		assert.equal(v.result, 'valid');
		assert.equal(v.word, EN['verify.result.valid'], 'the result in words');
		assert.deepEqual(v.iconShown, ['icon-valid'], 'and an icon');
		assert.equal(v.name, `${RESIDENT.given} ${RESIDENT.family}`);
		await shot(phone, 'e2e-06-verify-valid');
		await ctx.close();
	});

	await t.test('4. the resident asks for a reprint on a 320 px phone', async () => {
		const ctx = await browser.newContext({ viewport: { width: 320, height: 640 }, locale: 'en-US' });
		const phone = await newPage(ctx, server, problems);
		await phone.goto(`${server.origin}/reprint`);
		// Found by their labels, as a screen reader would.
		await phone.getByLabel(EN['reprint.field.number']).fill(state.number.toLowerCase());
		await phone.getByLabel(EN['reprint.field.dob']).fill(RESIDENT.dob);
		await phone.getByLabel(EN['reprint.field.code']).fill(state.code);
		await phone.getByLabel(EN['reprint.choice.reprint']).check();
		await shot(phone, 'e2e-07-reprint-form');
		assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= 320),
			'nothing sticks out at 320 px');
		const [answer] = await Promise.all([
			phone.waitForNavigation(),
			phone.getByRole('button', { name: EN['reprint.submit'] }).click(),
		]);
		assert.equal(answer.status(), 200);
		const text = await phone.locator('main').innerText();
		assert.ok(text.includes(EN['reprint.done.heading']), text);
		state.request = await phone.locator('.request-id').textContent();
		assert.match(state.request, /^\d+$/);
		assert.ok(!text.includes(state.code), 'the code is not written back');
		await shot(phone, 'e2e-08-reprint-sent');
		await ctx.close();
	});

	await t.test('5. the clerk approves it in the reprint queue', async () => {
		await clerk.goto(`${server.origin}/dashboard`);
		assert.equal(await clerk.locator('strong.count').textContent(), '1', 'one request waiting');
		await clerk.click('a[href="/requests"]');
		const row = clerk.locator('tr', { has: clerk.locator(`a[href="/cards/${state.number}"]`) });
		assert.equal(await row.count(), 1, 'the request is in the queue');
		await shot(clerk, 'e2e-09-queue');
		const approve = row.getByRole('button', { name: new RegExp(EN['requests.approve']) });
		assert.equal(await approve.getAttribute('type'), 'submit');
		await approve.focus();
		const [answer] = await Promise.all([clerk.waitForNavigation(), clerk.keyboard.press('Enter')]);
		assert.equal(answer.status(), 201);
		const page = await clerk.evaluate((label) => ({
			notice: document.querySelector('.notice-success')?.innerText || '',
			code: document.querySelector('.reprint-code')?.textContent,
			version: [...document.querySelectorAll('.card-fields div')]
				.find((d) => d.querySelector('dt').textContent === label)?.querySelector('dd').textContent,
		}), EN['card.label.version']);
		assert.ok(page.notice.includes(EN['card.actions.replaced']), page.notice);
		assert.equal(page.version, '2');
		assert.match(page.code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
		assert.notEqual(page.code, state.code, 'a new reprint code');
		await shot(clerk, 'e2e-10-approved-new-card');
	});

	await t.test('6. the old card now says REVOKED, the new one VALID', async () => {
		const ctx = await browser.newContext({ viewport: PHONE, locale: 'en-US' });
		const phone = await newPage(ctx, server, problems);
		await phone.goto(state.qr1);
		const v = await verdict(phone);
		assert.equal(v.result, 'revoked');
		assert.equal(v.word, EN['verify.result.revoked']);
		assert.deepEqual(v.iconShown, ['icon-revoked']);
		await shot(phone, 'e2e-11-old-card-revoked');
		const token = await server.token(...CLERK);
		const card = (await server.api('GET', `/api/v1/cards/${state.number}`, { token })).json;
		assert.equal(card.version, 2);
		const next = await newPage(ctx, server, problems);
		await next.goto(card.qr_text);
		assert.equal((await verdict(next)).result, 'valid');
		await shot(next, 'e2e-12-new-card-valid');
		await ctx.close();
	});

	await t.test('7. keyboard only: the clerk finds the card by name, then revokes it', async () => {
		await clerk.goto(`${server.origin}/cards/search`);
		assert.equal(await clerk.evaluate(() => document.activeElement.id), 'family_name');
		// Case and accents as a clerk might type them: found all the same.
		await clerk.keyboard.type('nguyễn-oyelaran');
		await clerk.keyboard.press('Tab');
		const [y, m, d] = RESIDENT.dob.split('-');
		await clerk.keyboard.type(m + d + y);
		await Promise.all([clerk.waitForNavigation(), clerk.keyboard.press('Enter')]);
		assert.equal(await clerk.evaluate(() => document.activeElement.id), 'results-heading',
			'the focus moves to the results');
		assert.equal(await clerk.locator('.result-list li').count(), 1);
		await shot(clerk, 'e2e-13-search-found');
		// Tab to the result's link, Enter.
		await clerk.keyboard.press('Tab');
		assert.equal(await clerk.evaluate(() => document.activeElement.getAttribute('href')),
			`/cards/${state.number}`);
		await Promise.all([clerk.waitForNavigation(), clerk.keyboard.press('Enter')]);
		// The revocation: reason from the list with the arrow keys, the
		// confirmation box with Space, then the button.
		await clerk.focus('#revoke-reason');
		await clerk.keyboard.press('ArrowDown');
		assert.notEqual(await clerk.inputValue('#revoke-reason'), '', 'a reason chosen');
		await clerk.keyboard.press('Tab');
		assert.equal(await clerk.evaluate(() => document.activeElement.id), 'revoke-confirm');
		await clerk.keyboard.press('Space');
		await clerk.keyboard.press('Tab');
		assert.equal(await clerk.evaluate(() => document.activeElement.textContent), EN['card.actions.revoke_submit']);
		const [answer] = await Promise.all([clerk.waitForNavigation(), clerk.keyboard.press('Enter')]);
		assert.equal(answer.status(), 200);
		const status = await clerk.locator('.card-fields .status').innerText();
		assert.ok(status.includes(EN['card.status.revoked']) && status.includes('✕'),
			`revoked, in words and an icon: ${status}`);
		await shot(clerk, 'e2e-14-revoked-by-keyboard');
	});

	await t.test('no script error, CSP refusal or request away from the server', () => {
		assert.deepEqual(problems, []);
	});
});
