/* card-form.js — the card issue form: take the photo with the webcam, and
 * show the photo that will be sent.
 *
 * Progressive enhancement: the form works without this file (the file
 * input alone), and the camera part stays hidden unless the browser can
 * both open a camera and hand a picture to the file input (DataTransfer).
 * The picture is put into the normal file input, so the ordinary
 * multipart submit carries it: nothing is uploaded by script.
 * Every text shown comes from the page (data-msg-* attributes), in the
 * page's language. No inline script: the CSP forbids it. */
(function () {
	'use strict';

	var input = document.getElementById('photo');
	var box = document.getElementById('camera');
	var preview = document.getElementById('photo-preview');
	var previewImg = document.getElementById('photo-preview-img');
	if (!input || !box || !preview || !previewImg) {
		return;
	}
	var status = document.getElementById('camera-status');
	var previewUrl = null;

	function say(key) {
		if (status) {
			status.textContent = box.getAttribute('data-msg-' + key) || '';
		}
	}

	/* Show what the file input holds, as the card will crop it (4:5). */
	function showPreview(blob) {
		if (previewUrl) {
			URL.revokeObjectURL(previewUrl);
			previewUrl = null;
		}
		if (!blob) {
			preview.hidden = true;
			previewImg.removeAttribute('src');
			return;
		}
		previewUrl = URL.createObjectURL(blob);
		previewImg.src = previewUrl;
		preview.hidden = false;
	}

	input.addEventListener('change', function () {
		var file = input.files && input.files[0];
		var ok = file && (file.type === 'image/jpeg' || file.type === 'image/png');
		showPreview(ok ? file : null);
		if (ok) {
			say('chosen');
		}
	});

	/* The camera: only where it can really work. */
	var md = navigator.mediaDevices;
	var canTransfer = false;
	try {
		canTransfer = typeof DataTransfer === 'function' && !!new DataTransfer().items &&
			typeof File === 'function' && !!HTMLCanvasElement.prototype.toBlob;
	} catch (e) {
		canTransfer = false;
	}
	if (!md || typeof md.getUserMedia !== 'function' || !canTransfer || !window.isSecureContext) {
		return;
	}

	var start = document.getElementById('camera-start');
	var live = document.getElementById('camera-live');
	var video = document.getElementById('camera-video');
	var take = document.getElementById('camera-take');
	var stop = document.getElementById('camera-stop');
	if (!start || !live || !video || !take || !stop) {
		return;
	}
	var stream = null;
	var canvas = document.createElement('canvas');
	box.hidden = false;

	function stopCamera() {
		if (stream) {
			stream.getTracks().forEach(function (t) { t.stop(); });
			stream = null;
		}
		video.srcObject = null;
		live.hidden = true;
		start.hidden = false;
	}

	start.addEventListener('click', function () {
		say('starting');
		start.disabled = true;
		md.getUserMedia({
			video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 960 } },
			audio: false
		}).then(function (s) {
			stream = s;
			video.srcObject = s;
			live.hidden = false;
			start.hidden = true;
			start.disabled = false;
			var played = video.play();
			if (played && typeof played.catch === 'function') {
				played.catch(function () {});
			}
			take.focus();
			say('ready');
		}).catch(function (err) {
			start.disabled = false;
			stopCamera();
			say(err && (err.name === 'NotAllowedError' || err.name === 'SecurityError')
				? 'denied' : 'unavailable');
		});
	});

	take.addEventListener('click', function () {
		var vw = video.videoWidth, vh = video.videoHeight;
		if (!vw || !vh) {
			return;   /* no frame yet */
		}
		/* The largest 4:5 portrait in the middle of the frame. */
		var cw = vw, ch = Math.round(vw * 5 / 4);
		if (ch > vh) {
			ch = vh;
			cw = Math.round(vh * 4 / 5);
		}
		var sx = Math.round((vw - cw) / 2), sy = Math.round((vh - ch) / 2);
		/* Enough pixels for the card (240 × 300), not more than needed. */
		var ow = Math.min(cw, 960), oh = Math.round(ow * 5 / 4);
		canvas.width = ow;
		canvas.height = oh;
		canvas.getContext('2d').drawImage(video, sx, sy, cw, ch, 0, 0, ow, oh);
		canvas.toBlob(function (blob) {
			if (!blob) {
				say('unavailable');
				return;
			}
			var file = new File([blob], 'camera.jpg', { type: 'image/jpeg', lastModified: Date.now() });
			var dt = new DataTransfer();
			dt.items.add(file);
			input.files = dt.files;
			stopCamera();
			showPreview(file);
			input.removeAttribute('aria-invalid');
			say('taken');
			start.focus();
		}, 'image/jpeg', 0.9);
	});

	stop.addEventListener('click', function () {
		stopCamera();
		start.focus();
	});

	/* Never leave the camera on: not on submit, not when leaving. */
	if (input.form) {
		input.form.addEventListener('submit', stopCamera);
	}
	window.addEventListener('pagehide', stopCamera);
}());
