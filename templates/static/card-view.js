/* card-view.js — the card page: the Print buttons, and after issuing, a
 * safe address for the page.
 *
 * Print buttons (data-print="page" or "receipt") are hidden in the HTML
 * and shown here, since they need script. "receipt" prints only the
 * resident's receipt (body.print-receipt, see style.css).
 *
 * The page that answers POST /cards/new carries the one-time reprint code.
 * Reloading it would post the form again and issue a second card, so the
 * address becomes the card's own page (data-card-url): a reload then shows
 * the card, without the code. The code itself is never in any URL. */
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

	var issued = document.querySelector('[data-card-url]');
	if (issued && window.history && typeof window.history.replaceState === 'function') {
		window.history.replaceState(null, '', issued.getAttribute('data-card-url'));
	}
}());
