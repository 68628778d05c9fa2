/* card-view.js — the card page: the Print buttons, and after issuing, a
 * safe address for the page.
 *
 * Print buttons (data-print="page" or "receipt") are hidden in the HTML
 * and shown here, since they need script. "receipt" prints only the
 * resident's receipt (body.print-receipt, see style.css).
 *
 * The page that answers POST /cards/new (or a reissue or renewal) carries
 * the one-time reprint code. Reloading it would post the form again and
 * make another card, so the address becomes the card's own page
 * (data-card-url): a reload then shows the card, without the code. The
 * code itself is never in any URL. The page after a revocation does the
 * same. Other pages that answer a POST with a one-time secret (the
 * staff accounts page: a new one-time password) say data-page-url.
 *
 * The card's action forms (data-once: revoke, reissue, renew) send once:
 * a second click while the first is on its way would make a second new
 * version. The button comes back if the page is shown again from the
 * browser's history. */
(function () {
	'use strict';

	var buttons = document.querySelectorAll('[data-print]');
	Array.prototype.forEach.call(buttons, function (b) {
		b.hidden = false;
		b.addEventListener('click', function () {
			var receiptOnly = b.getAttribute('data-print') === 'receipt';
			document.body.classList.toggle('print-receipt', receiptOnly);
			window.print();
		});
	});
	window.addEventListener('afterprint', function () {
		document.body.classList.remove('print-receipt');
	});

	var once = document.querySelectorAll('form[data-once]');
	Array.prototype.forEach.call(once, function (form) {
		form.addEventListener('submit', function (e) {
			if (form.getAttribute('data-sent')) {
				e.preventDefault();
				return;
			}
			form.setAttribute('data-sent', '1');
			Array.prototype.forEach.call(form.querySelectorAll('button[type="submit"]'), function (b) {
				b.disabled = true;
			});
		});
	});
	window.addEventListener('pageshow', function () {
		Array.prototype.forEach.call(once, function (form) {
			form.removeAttribute('data-sent');
			Array.prototype.forEach.call(form.querySelectorAll('button[type="submit"]'), function (b) {
				b.disabled = false;
			});
		});
	});

	var issued = document.querySelector('[data-card-url], [data-page-url]');
	if (issued && window.history && typeof window.history.replaceState === 'function') {
		window.history.replaceState(null, '', issued.getAttribute('data-card-url') ||
			issued.getAttribute('data-page-url'));
	}
}());
