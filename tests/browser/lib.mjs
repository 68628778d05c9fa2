// lib.mjs — what the browser tests share (test-verify-page.mjs,
// test-e2e.mjs, test-a11y.mjs): the real server in a temporary data
// folder, Debian's chromium through playwright-core, the catalogues, and
// screenshots. Not a test file itself (tests/browser/run runs test-*.mjs).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const CIVICARD = path.resolve(process.env.CIVICARD || 'build/civicard');
export const MAKE_PHOTO = path.resolve(process.env.MAKE_PHOTO || 'build/tests/make-photo');
export const CHROMIUM = process.env.CIVICARD_CHROMIUM || '/usr/bin/chromium';
export const MODULES = path.resolve(process.env.NODE_MODULES_DIR || path.join(here, 'node_modules'));
const requireHere = createRequire(path.join(path.dirname(MODULES), 'index.js'));
export const { chromium } = requireHere('playwright-core');
// axe-core's browser build, injected into each page by page.evaluate (the
// DevTools protocol, so the pages' strict CSP needs no exception).
export const AXE_SOURCE = fs.readFileSync(requireHere.resolve('axe-core/axe.min.js'), 'utf8');

export const ARTIFACTS = process.env.CIVICARD_ARTIFACTS ||
	fs.mkdtempSync(path.join(os.tmpdir(), 'civicard-browser-'));
fs.mkdirSync(ARTIFACTS, { recursive: true });

const CATALOGUES = path.join(here, '..', '..', 'templates', 'i18n');

// The catalogue texts of lang, key → text (as templates/i18n/LANG.txt).
export function catalogue(lang) {
	const out = {};
	for (const raw of fs.readFileSync(path.join(CATALOGUES, `${lang}.txt`), 'utf8').split('\n')) {
		const line = raw.trim();
		if (!line || line.startsWith('#') || !line.includes('='))
			continue;
		const i = line.indexOf('=');
		out[line.slice(0, i).trim()] = line.slice(i + 1).trim().replaceAll('\\n', '\n');
	}
	return out;
}

export class Server {
	constructor() {
		this.data = fs.mkdtempSync(path.join(os.tmpdir(), 'civicard-browser-data-'));
		this.stderr = [];
	}

	async start() {
		this.proc = spawn(CIVICARD, ['serve', '--data', this.data, '--listen', '127.0.0.1:0'],
			{ stdio: ['ignore', 'pipe', 'pipe'] });
		this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({ code, sig })));
		readline.createInterface({ input: this.proc.stderr }).on('line', (l) => this.stderr.push(l));
		const lines = readline.createInterface({ input: this.proc.stdout });
		this.port = await new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error('the server did not start:\n' +
				this.stderr.join('\n'))), 30000);
			lines.on('line', (line) => {
				const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
				if (m) {
					clearTimeout(timer);
					resolve(Number(m[1]));
				}
			});
			this.proc.on('exit', () => reject(new Error('the server exited:\n' + this.stderr.join('\n'))));
		});
		this.origin = `http://127.0.0.1:${this.port}`;
	}

	// Stops the server and fails unless it stopped cleanly: exit 0 after
	// SIGTERM, which under the sanitizers also means no leak or error.
	// With { check: false } it only returns the exit ({ code, sig }), for a
	// test that checks it itself. Either way the data folder goes.
	async stop({ check = true } = {}) {
		if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null)
			this.proc.kill('SIGTERM');
		const r = this.proc ? await this.exited : null;
		fs.rmSync(this.data, { recursive: true, force: true });
		if (r && check)
			assert.deepEqual(r, { code: 0, sig: null },
				`the server stopped cleanly:\n${this.stderr.slice(-40).join('\n')}`);
		return r;
	}

	// `civicard user add NAME --role ROLE`, password on stdin.
	addUser(name, password, role) {
		const r = spawnSync(CIVICARD, ['user', 'add', name, '--role', role, '--data', this.data],
			{ input: password + '\n', encoding: 'utf8' });
		assert.equal(r.status, 0, `user add ${name}: ${r.stderr}`);
	}

	// headers: more request headers (If-None-Match, ...).
	async api(method, p, { body, token, headers } = {}) {
		const h = { ...(headers || {}) };
		if (token)
			h.Authorization = `Bearer ${token}`;
		if (body && !(body instanceof FormData)) {
			h['Content-Type'] = 'application/json';
			body = JSON.stringify(body);
		}
		const r = await fetch(this.origin + p, { method, body, headers: h });
		const text = await r.text();
		let json = null;
		try {
			json = JSON.parse(text);
		} catch {
			json = null;
		}
		return { status: r.status, headers: r.headers, json, text };
	}

	async token(name, password) {
		const r = await this.api('POST', '/api/v1/login', { body: { username: name, password } });
		assert.equal(r.status, 200, `API log-in ${name}: ${r.text}`);
		return r.json.token;
	}
}

// A JPEG portrait from make-photo (an invented face: coloured shapes).
export function photoFile(server, name, w = 600, h = 750) {
	const out = path.join(server.data, name);
	const r = spawnSync(MAKE_PHOTO, [out, String(w), String(h)]);
	assert.equal(r.status, 0, `make-photo: ${r.stderr}`);
	return out;
}

export async function issueByApi(server, token, given, family, dob) {
	const form = new FormData();
	form.append('given_names', given);
	form.append('family_name', family);
	form.append('date_of_birth', dob);
	form.append('photo', new Blob([fs.readFileSync(photoFile(server, `${family}.jpg`))],
		{ type: 'image/jpeg' }), 'face.jpg');
	const r = await server.api('POST', '/api/v1/cards', { body: form, token });
	assert.equal(r.status, 201, `issue ${family}: ${r.status} ${r.text}`);
	return r.json;
}

export async function launch() {
	return chromium.launch({
		executablePath: CHROMIUM,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			// A stand-in webcam (a moving test pattern), allowed without asking.
			'--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
	});
}

// A page that records script errors, CSP refusals and requests that leave
// the server (nothing may: no CDN, no web font).
export async function newPage(context, server, problems) {
	const page = await context.newPage();
	page.on('console', (m) => {
		if (m.type() === 'error' && !/status of 4\d\d/.test(m.text()))
			problems.push(`console ${m.type()}: ${m.text()}`);
		else if (/Content Security Policy|Refused/.test(m.text()))
			problems.push(`console: ${m.text()}`);
	});
	page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
	page.on('request', (r) => {
		const u = r.url();
		if (!u.startsWith(server.origin) && !u.startsWith('data:') && !u.startsWith('blob:'))
			problems.push(`a request away from the server: ${u}`);
	});
	return page;
}

export async function shot(page, name) {
	await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// Sign in through the log-in form with the keyboard only: the user name
// field, Tab, the password, Enter.
export async function signIn(page, server, name, password) {
	await page.goto(`${server.origin}/login`);
	await page.focus('#username');
	await page.keyboard.type(name);
	await page.keyboard.press('Tab');
	assert.equal(await page.evaluate(() => document.activeElement.id), 'password',
		'Tab goes from the user name to the password');
	await page.keyboard.type(password);
	await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

// What the verification page (/v) shows once it has decided.
export async function verdict(page) {
	await page.waitForFunction(() => document.documentElement.hasAttribute('data-result'), null,
		{ timeout: 20000 });
	return page.evaluate(() => ({
		result: document.documentElement.getAttribute('data-result'),
		word: document.getElementById('result-word').textContent,
		iconShown: [...document.querySelectorAll('svg.icon')]
			.filter((i) => i.getBoundingClientRect().width > 0).map((i) => i.id),
		name: document.getElementById('d-name').textContent,
	}));
}
