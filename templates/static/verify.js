/* verify.js — the verification page (/v): checks a card's QR token in the
 * browser and shows the result, full screen.
 *
 * The token is the URL fragment (/v#<token>), which the browser never
 * sends to the server; this script sends nothing about it either. It
 * fetches only the two documents that are the same for every card: the
 * city's public keys (GET /api/v1/keys) and the signed revocation list of
 * every card (GET /api/v1/status-list). Then, for a token:
 *   1. decode and parse it exactly as docs/token-format.md says; anything
 *      malformed is NOT GENUINE;
 *   2. check its Ed25519 signature over "civicard-token-v1" || payload with
 *      the key of its key id: WebCrypto where the browser has Ed25519,
 *      else ed25519.js (and always ed25519.js with ?fallback=1);
 *   3. check the status list's own signature, inflate its bits and look at
 *      the card's bit: set means REVOKED;
 *   4. compare the expiry with today's date on this device: EXPIRED;
 *   5. otherwise VALID, with the name, date of birth and expiry.
 * When the page cannot decide (no keys yet, a newer key, no status list)
 * it says CANNOT CHECK, never NOT GENUINE for a card it could not check.
 *
 * The fragment is removed from the address once read, and the scanner
 * never puts a token in it, so residents' names do not pile up in the
 * address bar and history of a counter's phone.
 *
 * Offline: the service worker (/sw.js, templates/static/sw.js) keeps this
 * page, its files, the keys and the status list; the page tells how old
 * its revocation list is.
 *
 * Texts: every offered language's, from the catalogues, in #i18n
 * (data-texts). The language: ?lang=, else the one chosen with the switch
 * (kept in localStorage), else navigator.languages, else the page's.
 *
 * For the tests: window.CivicardVerify = { parseToken, today, engine }. */
(function () {
	'use strict';

	var CONTEXT = 'civicard-token-v1';
	var STATUS_FORMAT = 'civicard-status-list-v1';
	var B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	var CARD_ALPHABET = '023456789ABCDEFGHJKMNPQRSTVWXYZ';
	var TOKEN_FIXED = 19, TOKEN_SIG = 64, NAME_MAX = 120;
	var TOKEN_MAX_CHARS = Math.floor(((TOKEN_FIXED + 2 * NAME_MAX + TOKEN_SIG) * 8 + 4) / 5);
	var CARDNUM_LIMIT = 819628286980801;          /* 31^10 */
	var STATUS_MAX_BITS = 1 << 24;
	var MINUTE = 60000, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
	var KEYS_REFRESH = 5 * MINUTE;                /* the keys' max-age */
	var STATUS_REFRESH = MINUTE;                  /* the status list's */
	var STALE = 15 * MINUTE;                      /* "connect to refresh" */
	var FETCH_TIMEOUT = 10000;
	var LANG_KEY = 'civicard.verify.lang';
	/* RFC 8032 test 1's public key: only to ask WebCrypto for Ed25519. */
	var PROBE_KEY = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');

	var params = new URLSearchParams(location.search);
	var forceFallback = params.get('fallback') === '1';
	var root = document.documentElement;
	var $ = function (id) { return document.getElementById(id); };

	/* ---- texts and language ---- */

	var texts = {};
	try {
		texts = JSON.parse($('i18n').getAttribute('data-texts')) || {};
	} catch (e) {
		texts = {};
	}

	function stored() {
		try {
			return localStorage.getItem(LANG_KEY);
		} catch (e) {
			return null;
		}
	}

	function primary(tag) {
		return String(tag || '').toLowerCase().split('-')[0];
	}

	function chooseLanguage() {
		var wanted = [params.get('lang'), stored()]
			.concat(navigator.languages || [navigator.language])
			.concat([root.lang, 'en']);
		for (var i = 0; i < wanted.length; i++) {
			var p = primary(wanted[i]);
			if (p && Object.prototype.hasOwnProperty.call(texts, p))
				return p;
		}
		return Object.keys(texts)[0] || 'en';
	}

	var lang = chooseLanguage();

	/* The text of key, with {name} replaced from vars. */
	function t(key, vars) {
		var s = (texts[lang] && texts[lang][key]) || (texts.en && texts.en[key]) || key;
		if (vars) {
			s = s.replace(/\{(\w+)\}/g, function (m, name) {
				return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : m;
			});
		}
		return s;
	}

	/* Put the text of key into el, each {name} replaced by vars[name] in
	 * a <span class="nowrap"> (a date must not break at its dashes). */
	function fill(el, key, vars) {
		var parts = t(key).split(/\{(\w+)\}/);
		el.textContent = '';
		for (var i = 0; i < parts.length; i++) {
			if (i % 2 === 0) {
				el.appendChild(document.createTextNode(parts[i]));
			} else {
				var span = document.createElement('span');
				span.className = 'nowrap';
				span.textContent = Object.prototype.hasOwnProperty.call(vars, parts[i])
					? String(vars[parts[i]]) : '{' + parts[i] + '}';
				el.appendChild(span);
			}
		}
	}

	function applyTexts() {
		root.lang = lang;
		document.title = t('verify.title') + ' · ' + t('app.name');
		Array.prototype.forEach.call(document.querySelectorAll('[data-i18n]'), function (el) {
			el.textContent = t(el.getAttribute('data-i18n'));
		});
		Array.prototype.forEach.call(document.querySelectorAll('[data-i18n-label]'), function (el) {
			el.setAttribute('aria-label', t(el.getAttribute('data-i18n-label')));
		});
		Array.prototype.forEach.call(document.querySelectorAll('[data-lang]'), function (a) {
			if (a.getAttribute('data-lang') === lang)
				a.setAttribute('aria-current', 'true');
			else
				a.removeAttribute('aria-current');
		});
		render(false);
	}

	/* ---- bytes ---- */

	function hex(s) {
		var out = new Uint8Array(s.length / 2);
		for (var i = 0; i < out.length; i++)
			out[i] = parseInt(s.substr(2 * i, 2), 16);
		return out;
	}

	function concat(a, b) {
		var out = new Uint8Array(a.length + b.length);
		out.set(a, 0);
		out.set(b, a.length);
		return out;
	}

	function ascii(s) {
		return new TextEncoder().encode(s);
	}

	/* base64url without padding (the keys, the status list), or null. */
	function base64url(s) {
		if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1)
			return null;
		var b = s.replace(/-/g, '+').replace(/_/g, '/');
		while (b.length % 4)
			b += '=';
		try {
			var bin = atob(b);
			var out = new Uint8Array(bin.length);
			for (var i = 0; i < bin.length; i++)
				out[i] = bin.charCodeAt(i);
			return out;
		} catch (e) {
			return null;
		}
	}

	/* RFC 4648 base32, upper case, no padding; leftover bits must be
	 * zero and fewer than a character (one text per byte string). */
	function base32(s) {
		var out = [], acc = 0, bits = 0;
		for (var i = 0; i < s.length; i++) {
			var v = B32.indexOf(s.charAt(i));
			if (v < 0)
				return null;
			acc = (acc << 5) | v;
			bits += 5;
			if (bits >= 8) {
				out.push((acc >> (bits - 8)) & 255);
				bits -= 8;
			}
			acc &= (1 << bits) - 1;
		}
		if (bits >= 5 || acc !== 0)
			return null;
		return Uint8Array.from(out);
	}

	/* ---- the token (docs/token-format.md) ---- */

	function isoDay(epochYear, days) {
		return new Date(Date.UTC(epochYear, 0, 1) + days * DAY).toISOString().slice(0, 10);
	}

	function cardNumber(n) {
		var v = [], sum = 0, s = '', i;
		for (i = 9; i >= 0; i--) {
			v[i] = n % 31;
			n = Math.floor(n / 31);
		}
		for (i = 0; i < 10; i++) {
			sum = (sum + (i + 1) * v[i]) % 31;
			s += CARD_ALPHABET.charAt(v[i]);
		}
		/* The check character c makes sum + 11c ≡ 0 (mod 31); 11⁻¹ = 17. */
		return s + CARD_ALPHABET.charAt((31 - sum) % 31 * 17 % 31);
	}

	var utf8 = new TextDecoder('utf-8', { fatal: true });

	/* A name field: UTF-8 without control characters, or null. */
	function name(bytes) {
		for (var i = 0; i < bytes.length; i++)
			if (bytes[i] < 0x20 || bytes[i] === 0x7f)
				return null;
		try {
			return utf8.decode(bytes);
		} catch (e) {
			return null;
		}
	}

	/* The claims of a token, with the signed payload and the signature;
	 * null when anything about it is malformed. */
	function parseToken(text) {
		if (typeof text !== 'string' || text.length > TOKEN_MAX_CHARS)
			return null;
		var b = base32(text);
		if (!b || b.length < TOKEN_FIXED + TOKEN_SIG)
			return null;
		var plen = b.length - TOKEN_SIG;
		if (b[0] !== 1 || b[1] === 0 || b[9] === 0)
			return null;
		if (b[2] >= 4)                                /* ≥ 2^50 > 31^10 */
			return null;
		var n = 0, i;
		for (i = 2; i < 9; i++)
			n = n * 256 + b[i];
		if (n >= CARDNUM_LIMIT)
			return null;
		var c = {
			kid: b[1],
			cardNumber: cardNumber(n),
			version: b[9],
			statusIndex: (b[10] << 16) | (b[11] << 8) | b[12],
			dateOfBirth: isoDay(1900, (b[13] << 8) | b[14]),
			expiresOn: isoDay(2000, (b[15] << 8) | b[16]),
		};
		var off = 17, names = [];
		for (i = 0; i < 2; i++) {
			if (off >= plen)
				return null;
			var len = b[off++];
			if (len > NAME_MAX || len > plen - off)
				return null;
			var s = name(b.subarray(off, off + len));
			if (s === null)
				return null;
			names.push(s);
			off += len;
		}
		if (off !== plen)
			return null;
		c.givenNames = names[0];
		c.familyName = names[1];
		c.payload = b.subarray(0, plen);
		c.signature = b.subarray(plen);
		return c;
	}

	/* ---- signatures ---- */

	var webcrypto = null;   /* Promise<bool>: has WebCrypto Ed25519 */

	function engine() {
		if (!webcrypto) {
			webcrypto = (forceFallback || !window.crypto || !crypto.subtle)
				? Promise.resolve(false)
				: crypto.subtle.importKey('raw', PROBE_KEY, { name: 'Ed25519' }, false, ['verify'])
					.then(function () { return true; }, function () { return false; });
			webcrypto.then(function (yes) {
				root.setAttribute('data-engine', yes ? 'webcrypto' : 'fallback');
			});
		}
		return webcrypto.then(function (yes) { return yes ? 'webcrypto' : 'fallback'; });
	}

	function canVerify() {
		return engine().then(function (e) {
			return e === 'webcrypto' || !!(window.CivicardEd25519 && window.crypto && crypto.subtle);
		});
	}

	async function edVerify(publicKey, message, signature) {
		if ((await engine()) === 'webcrypto') {
			try {
				var key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
				return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
			} catch (e) {
				return false;
			}
		}
		return window.CivicardEd25519 ? window.CivicardEd25519.verify(publicKey, message, signature) : false;
	}

	/* ---- the keys and the status list ---- */

	var data = {
		keys: null,            /* Map: kid -> 32-byte public key */
		keysAt: 0,             /* when loaded (this device's clock) */
		keysFromCache: false,  /* the network failed: the worker's copy */
		status: null,          /* { bits, size, issuedAt, asOf } */
		statusAt: 0,
		statusFromCache: false,
	};

	/* GET a same-origin JSON document: { json, fromCache, date }. No
	 * cookies: nothing about the device or a staff session goes along. */
	async function getJson(path) {
		var ctl = typeof AbortController === 'function' ? new AbortController() : null;
		var timer = ctl ? setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT) : 0;
		try {
			var r = await fetch(path, { credentials: 'omit', signal: ctl ? ctl.signal : undefined });
			if (!r.ok)
				throw new Error(path + ': ' + r.status);
			return {
				json: await r.json(),
				fromCache: r.headers.get('X-Civicard-Cache') === 'hit',
				date: Date.parse(r.headers.get('Date') || ''),
			};
		} finally {
			clearTimeout(timer);
		}
	}

	var loadingKeys = null, loadingStatus = null;

	/* Resolves to true when the network answered (not the worker's copy). */
	function loadKeys() {
		if (!loadingKeys) {
			loadingKeys = (async function () {
				try {
					var r = await getJson('/api/v1/keys');
					var keys = new Map();
					(r.json && Array.isArray(r.json.keys) ? r.json.keys : []).forEach(function (k) {
						var pk = k && k.algorithm === 'Ed25519' ? base64url(k.public_key) : null;
						if (pk && pk.length === 32 && Number.isInteger(k.kid))
							keys.set(k.kid, pk);
					});
					data.keys = keys;
					data.keysAt = Date.now();
					data.keysFromCache = r.fromCache;
					return !r.fromCache;
				} catch (e) {
					return false;   /* keep what we had */
				}
			}()).finally(function () { loadingKeys = null; });
		}
		return loadingKeys;
	}

	async function inflate(bytes) {
		var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
		return new Uint8Array(await new Response(stream).arrayBuffer());
	}

	function loadStatus() {
		if (!loadingStatus) {
			loadingStatus = (async function () {
				try {
					var r = await getJson('/api/v1/status-list');
					var d = r.json || {};
					var issued = Date.parse(d.issued_at);
					if (d.format !== STATUS_FORMAT || d.encoding !== 'zlib' || !Number.isInteger(d.kid) ||
					    !Number.isInteger(d.size) || d.size <= 0 || d.size > STATUS_MAX_BITS ||
					    typeof d.issued_at !== 'string' || isNaN(issued) || typeof d.bits !== 'string')
						return;
					var date = isNaN(r.date) ? issued : Math.max(issued, r.date);
					/* A newer list's issued_at is never older than the one we hold. */
					if (data.status && issued < data.status.issuedAt)
						return;
					/* The same list again: nothing to check or inflate. */
					if (data.status && d.bits === data.status.text && d.signature === data.status.signature &&
					    d.issued_at === data.status.issuedText && d.kid === data.status.kid) {
						data.status.asOf = Math.max(data.status.asOf, date);
						data.statusAt = Date.now();
						data.statusFromCache = r.fromCache;
						return;
					}
					if (!data.keys || !data.keys.has(d.kid))
						await loadKeys();
					var pk = data.keys && data.keys.get(d.kid);
					var sig = base64url(d.signature);
					var z = base64url(d.bits);
					if (!pk || !sig || !z)
						return;
					var signed = ascii(STATUS_FORMAT + '\n' + d.kid + '\n' + d.issued_at + '\n' +
							   d.size + '\n' + d.bits);
					if (!(await edVerify(pk, signed, sig)))
						return;
					var bits = await inflate(z);
					if (bits.length * 8 < d.size)
						return;
					data.status = {
						bits: bits,
						size: d.size,
						issuedAt: issued,
						/* As of when the server sent it (its Date), at least
						 * as of when it was signed. */
						asOf: date,
						/* What was checked, to know the same list again. */
						text: d.bits,
						signature: d.signature,
						issuedText: d.issued_at,
						kid: d.kid,
					};
					data.statusAt = Date.now();
					data.statusFromCache = r.fromCache;
				} catch (e) {
					/* keep what we had */
				}
			}()).finally(function () { loadingStatus = null; });
		}
		return loadingStatus;
	}

	/* Fresh enough copies of both, from the network when it answers. */
	async function refresh() {
		var now = Date.now();
		if (!data.keys || data.keysFromCache || now - data.keysAt > KEYS_REFRESH)
			await loadKeys();
		if (!data.status || data.statusFromCache || now - data.statusAt > STATUS_REFRESH)
			await loadStatus();
	}

	function revoked(index) {
		var s = data.status;
		if (index >= s.size)
			return false;
		return ((s.bits[index >> 3] >> (7 - (index & 7))) & 1) === 1;
	}

	/* Today on this device, YYYY-MM-DD. */
	function today() {
		var d = new Date();
		var p = function (n) { return (n < 10 ? '0' : '') + n; };
		return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
	}

	/* ---- checking a token ---- */

	async function evaluate(text) {
		var c = parseToken(text);
		if (!c)
			return { state: 'invalid' };
		if (!window.isSecureContext || !window.crypto || !crypto.subtle)
			return { state: 'unchecked', reason: 'insecure' };
		if (!(await canVerify()))
			return { state: 'unchecked', reason: 'browser' };
		await refresh();
		if (!data.keys)
			return { state: 'unchecked', reason: 'no_keys' };
		var pk = data.keys.get(c.kid);
		if (!pk) {
			/* A key made since we last asked? Only the server can say
			 * that it has no such key. */
			var answered = await loadKeys();
			pk = data.keys.get(c.kid);
			if (!pk)
				return answered ? { state: 'invalid' } : { state: 'unchecked', reason: 'new_key' };
		}
		if (!(await edVerify(pk, concat(ascii(CONTEXT), c.payload), c.signature)))
			return { state: 'invalid' };
		var claims = {
			cardNumber: c.cardNumber,
			givenNames: c.givenNames,
			familyName: c.familyName,
			dateOfBirth: c.dateOfBirth,
			expiresOn: c.expiresOn,
		};
		if (data.status && revoked(c.statusIndex))
			return { state: 'revoked', claims: claims };
		if (c.expiresOn < today())
			return { state: 'expired', claims: claims };
		if (!data.status)
			return { state: 'unchecked', reason: 'no_status' };
		return { state: 'valid', claims: claims };
	}

	var current = null;       /* the outcome shown, or null (idle) */
	var checking = false;
	var scanning = false;
	var sequence = 0;

	async function check(text) {
		var mine = ++sequence;
		checking = true;
		render(false);
		var outcome;
		try {
			outcome = await evaluate(text);
		} catch (e) {
			outcome = { state: 'unchecked', reason: 'browser' };
		}
		if (mine !== sequence)
			return;
		checking = false;
		current = outcome;
		render(true);
		/* A buzz for the counter with the phone in hand (the browser
		 * allows it only after a tap, as in scan mode). */
		if (navigator.vibrate && navigator.userActivation && navigator.userActivation.hasBeenActive)
			navigator.vibrate(outcome.state === 'valid' ? 80 : [200, 100, 200]);
	}

	/* ---- showing it ---- */

	var RESULT_STATES = ['valid', 'revoked', 'expired', 'invalid', 'unchecked'];
	var scanSupported = false;

	function formatNumber(n) {
		return n.slice(0, 4) + '-' + n.slice(4, 8) + '-' + n.slice(8);
	}

	function ago(ms) {
		var rtf = typeof Intl === 'object' && Intl.RelativeTimeFormat
			? new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }) : null;
		var n, unit;
		if (ms < HOUR) {
			n = Math.round(ms / MINUTE);
			unit = 'minute';
		} else if (ms < DAY) {
			n = Math.round(ms / HOUR);
			unit = 'hour';
		} else if (ms < 60 * DAY) {
			n = Math.round(ms / DAY);
			unit = 'day';
		} else if (ms < 730 * DAY) {
			n = Math.round(ms / (30.44 * DAY));
			unit = 'month';
		} else {
			n = Math.round(ms / (365.25 * DAY));
			unit = 'year';
		}
		return rtf ? rtf.format(-n, unit) : new Date(Date.now() - ms).toISOString().slice(0, 16).replace('T', ' ');
	}

	function renderFreshness() {
		var el = $('freshness');
		var s = current && data.status && ['valid', 'revoked', 'expired'].indexOf(current.state) >= 0;
		el.hidden = !s;
		if (!s)
			return;
		var age = Math.max(0, Date.now() - data.status.asOf);
		var stale = age >= STALE;
		el.classList.toggle('stale', stale);
		el.textContent = age < MINUTE ? t('verify.fresh.now')
			: t(stale ? 'verify.fresh.stale' : 'verify.fresh.age', { age: ago(age) });
	}

	function render(focus) {
		var showResult = !checking && !scanning && current !== null;
		var state = showResult ? current.state : checking ? 'checking' : scanning ? 'scanning' : 'idle';
		document.body.className = 'state-' + state;
		$('idle').hidden = state !== 'idle';
		$('checking').hidden = state !== 'checking';
		$('scanner').hidden = state !== 'scanning';
		$('result').hidden = !showResult;
		$('scan').hidden = !scanSupported || scanning || checking;
		$('scan').textContent = t(current ? 'verify.scan_next' : 'verify.scan');
		$('scan-stop').hidden = !scanning;

		RESULT_STATES.forEach(function (s) {
			/* SVG elements have no .hidden property: the attribute. */
			$('icon-' + s).toggleAttribute('hidden', !showResult || s !== state);
		});
		var c = showResult && current.claims;
		var genuine = showResult && (state === 'valid' || state === 'revoked' || state === 'expired');
		/* Names only for a genuine signature; cleared otherwise. */
		$('details').hidden = !genuine;
		$('d-name').textContent = genuine ? c.givenNames + ' ' + c.familyName : '';
		$('d-dob').textContent = genuine ? c.dateOfBirth : '';
		$('d-expires').textContent = genuine ? c.expiresOn : '';
		$('d-number').textContent = genuine ? formatNumber(c.cardNumber) : '';
		$('compare').hidden = state !== 'valid';
		$('todo').hidden = ['revoked', 'expired', 'invalid'].indexOf(state) < 0;
		$('todo-reprint').textContent = t('verify.todo.reprint', { url: location.origin + '/reprint' });
		$('todo-connect').hidden = !(state === 'unchecked' &&
			['no_keys', 'new_key', 'no_status'].indexOf(current.reason) >= 0);

		if (showResult) {
			var word = t('verify.result.' + state);
			var longest = Math.max.apply(null, word.split(/\s+/).map(function (w) { return w.length; }));
			$('result-word').textContent = word;
			/* Smaller type for a long word, so that it never breaks. */
			$('result-word').className = 'result-word' + (longest > 10 ? ' longer' : longest > 8 ? ' long' : '');
			if (state === 'unchecked')
				$('result-sub').textContent = t('verify.unchecked.' + current.reason);
			else if (state === 'expired')
				fill($('result-sub'), 'verify.result.expired_sub', { date: c.expiresOn });
			else
				$('result-sub').textContent = t('verify.result.' + state + '_sub');
			root.setAttribute('data-result', state);
		} else {
			$('result-word').textContent = '';
			$('result-sub').textContent = '';
			root.removeAttribute('data-result');
		}
		renderFreshness();
		if (focus && showResult)
			$('result-word').focus();
	}

	/* ---- the fragment ---- */

	/* The token in the address, which is then taken out of it. */
	function takeToken() {
		var h = location.hash;
		if (!h || h.length < 2)
			return null;
		try {
			history.replaceState(null, '', location.pathname + location.search);
		} catch (e) {
			/* keep it then */
		}
		return h.slice(1);
	}

	function tokenOf(text) {
		var i = String(text).lastIndexOf('#');
		return i >= 0 ? text.slice(i + 1) : String(text);
	}

	/* ---- the camera (BarcodeDetector), for counters ---- */

	var stream = null, detector = null, timer = 0;

	function scanError(key) {
		var el = $('scan-error');
		el.hidden = !key;
		el.textContent = key ? t(key) : '';
		if (key)
			el.setAttribute('data-i18n', key);
		else
			el.removeAttribute('data-i18n');
	}

	async function startScan() {
		scanError(null);
		try {
			detector = new window.BarcodeDetector({ formats: ['qr_code'] });
			stream = await navigator.mediaDevices.getUserMedia({
				video: { facingMode: 'environment' }, audio: false,
			});
		} catch (e) {
			stopScan();
			scanError(e && e.name === 'NotAllowedError' ? 'verify.scan_denied' : 'verify.scan_unavailable');
			return;
		}
		var video = $('video');
		video.srcObject = stream;
		scanning = true;
		sequence++;           /* a check still running is no longer shown */
		checking = false;
		render(false);
		try {
			await video.play();
		} catch (e) {
			/* muted inline video plays; detect() waits for frames anyway */
		}
		tick();
	}

	function tick() {
		if (!scanning)
			return;
		detector.detect($('video')).then(function (codes) {
			if (!scanning)
				return;
			for (var i = 0; i < codes.length; i++) {
				if (codes[i].rawValue) {
					stopScan();
					check(tokenOf(codes[i].rawValue));
					return;
				}
			}
			timer = setTimeout(tick, 150);
		}, function () {
			timer = setTimeout(tick, 300);
		});
	}

	function stopScan() {
		scanning = false;
		clearTimeout(timer);
		if (stream)
			stream.getTracks().forEach(function (track) { track.stop(); });
		stream = null;
		$('video').srcObject = null;
		render(false);
	}

	async function detectScanner() {
		if (!('BarcodeDetector' in window) || !navigator.mediaDevices ||
		    !navigator.mediaDevices.getUserMedia)
			return;
		try {
			var formats = await window.BarcodeDetector.getSupportedFormats();
			scanSupported = formats.indexOf('qr_code') >= 0;
		} catch (e) {
			scanSupported = false;
		}
		render(false);
	}

	/* ---- offline ---- */

	function offlineReady() {
		if (!navigator.serviceWorker.controller)
			return;
		root.setAttribute('data-offline', 'ready');
		$('offline-ready').hidden = false;
	}

	function registerWorker() {
		if (!('serviceWorker' in navigator) || !window.isSecureContext)
			return;
		navigator.serviceWorker.addEventListener('controllerchange', offlineReady);
		offlineReady();
		navigator.serviceWorker.register('/sw.js', { scope: '/v' }).catch(function () {
			/* no offline use, the page still works */
		});
	}

	/* ---- start ---- */

	Array.prototype.forEach.call(document.querySelectorAll('[data-lang]'), function (a) {
		a.addEventListener('click', function (ev) {
			ev.preventDefault();
			lang = a.getAttribute('data-lang');
			try {
				localStorage.setItem(LANG_KEY, lang);
			} catch (e) {
				/* private mode: the choice lasts as long as the page */
			}
			applyTexts();
		});
	});
	$('scan').addEventListener('click', startScan);
	$('scan-stop').addEventListener('click', stopScan);
	window.addEventListener('hashchange', function () {
		var token = takeToken();
		if (token) {
			if (scanning)
				stopScan();
			check(token);
		}
	});
	window.addEventListener('online', function () {
		refresh().then(renderFreshness);
	});
	document.addEventListener('visibilitychange', function () {
		if (document.visibilityState === 'visible')
			refresh().then(renderFreshness);
	});
	setInterval(renderFreshness, 30000);

	window.CivicardVerify = Object.freeze({ parseToken: parseToken, today: today, engine: engine });

	applyTexts();
	engine();
	registerWorker();
	detectScanner();
	var first = takeToken();
	if (first)
		check(first);
	else
		refresh();
}());
