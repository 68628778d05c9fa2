/* sw.js — the verification page's service worker: /v keeps checking cards
 * without a network once it has been loaded.
 *
 * Served as GET /sw.js (src/ui/pages_verify.c), registered by verify.js
 * with scope /v: it controls the verification page only, never the staff
 * pages. The server writes its first line, self.CIVICARD_VERSION, a hash
 * of everything cached below; a new version is a new cache (the old ones
 * are deleted on activation), so nothing is bumped by hand.
 *
 *   the page and its files   cache first: precached on install, the same
 *                            bytes until the next version
 *   /api/v1/keys             network first (a few seconds at most), then
 *   /api/v1/status-list      the last good copy, marked with the response
 *                            header X-Civicard-Cache: hit so the page knows
 *                            it is not fresh
 * Nothing else is touched: no other request is answered or cached here,
 * and no request ever carries anything about a card. */
'use strict';

var VERSION = self.CIVICARD_VERSION || 'dev';
var PREFIX = 'civicard-verify-';
var CACHE = PREFIX + VERSION;
var SHELL = ['/v', '/static/verify.css', '/static/verify.js', '/static/ed25519.js'];
var DATA = ['/api/v1/keys', '/api/v1/status-list'];
var NETWORK_WAIT = 4000;   /* ms before a slow network loses to the cache */

function fetchFresh(path) {
	return fetch(new Request(path, { cache: 'no-cache', credentials: 'omit' }));
}

self.addEventListener('install', function (event) {
	event.waitUntil(caches.open(CACHE).then(function (cache) {
		var shell = Promise.all(SHELL.map(function (path) {
			return fetchFresh(path).then(function (r) {
				if (!r.ok)
					throw new Error(path + ': ' + r.status);
				return cache.put(path, r);
			});
		}));
		/* The data is welcome but not required: the previous version's
		 * copies are carried over on activation. */
		var data = Promise.all(DATA.map(function (path) {
			return fetchFresh(path).then(function (r) {
				return r.ok ? cache.put(path, r) : null;
			}).catch(function () { return null; });
		}));
		return Promise.all([shell, data]);
	}).then(function () {
		return self.skipWaiting();
	}));
});

self.addEventListener('activate', function (event) {
	event.waitUntil(caches.keys().then(function (names) {
		var old = names.filter(function (n) { return n.indexOf(PREFIX) === 0 && n !== CACHE; });
		return caches.open(CACHE).then(function (cache) {
			/* Keys and status list the new cache lacks: the old copies. */
			return Promise.all(DATA.map(function (path) {
				return cache.match(path, { ignoreVary: true }).then(function (have) {
					if (have)
						return null;
					return caches.match(path, { ignoreVary: true }).then(function (r) {
						return r ? cache.put(path, r) : null;
					});
				});
			}));
		}).then(function () {
			return Promise.all(old.map(function (n) { return caches.delete(n); }));
		});
	}).then(function () {
		return self.clients.claim();
	}));
});

/* A copy of r that says it came from the cache. */
function marked(r) {
	var headers = new Headers(r.headers);
	headers.set('X-Civicard-Cache', 'hit');
	return new Response(r.body, { status: r.status, statusText: r.statusText, headers: headers });
}

function cacheFirst(request, path) {
	return caches.open(CACHE).then(function (cache) {
		return cache.match(path, { ignoreVary: true }).then(function (hit) {
			if (hit)
				return hit;
			return fetch(request).then(function (r) {
				if (r.ok && r.type === 'basic')
					cache.put(path, r.clone());
				return r;
			});
		});
	});
}

function networkFirst(request, path) {
	return caches.open(CACHE).then(function (cache) {
		var network = fetch(request).then(function (r) {
			if (r.ok && r.status === 200)
				return cache.put(path, r.clone()).then(function () { return r; });
			return r;
		});
		network.catch(function () { /* answered below */ });
		var cached = function () {
			return cache.match(path, { ignoreVary: true }).then(function (hit) { return hit ? marked(hit) : null; });
		};
		var slow = new Promise(function (resolve) {
			setTimeout(resolve, NETWORK_WAIT, 'slow');
		});
		return Promise.race([network, slow]).then(function (r) {
			if (r === 'slow') {
				/* Too slow: the copy, if there is one; else keep waiting. */
				return cached().then(function (hit) { return hit || network; });
			}
			if (r.ok)
				return r;
			return cached().then(function (hit) { return hit || r; });
		}, function (err) {
			return cached().then(function (hit) {
				if (hit)
					return hit;
				throw err;
			});
		});
	});
}

self.addEventListener('fetch', function (event) {
	var request = event.request;
	if (request.method !== 'GET')
		return;
	var url = new URL(request.url);
	if (url.origin !== self.location.origin)
		return;
	if (DATA.indexOf(url.pathname) >= 0)
		event.respondWith(networkFirst(request, url.pathname));
	else if (SHELL.indexOf(url.pathname) >= 0)
		event.respondWith(cacheFirst(request, url.pathname));
});
