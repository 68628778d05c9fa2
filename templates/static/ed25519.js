/* ed25519.js — Ed25519 signature verification (RFC 8032, section 5.1),
 * for browsers whose WebCrypto has no Ed25519 yet. verify.js uses it only
 * then (or when the page is opened with ?fallback=1, for the tests).
 *
 * Verification only: nothing secret is ever handled here, so plain BigInt
 * arithmetic (not constant-time) is fine. SHA-512 comes from WebCrypto,
 * which has it wherever the page can run (a secure context).
 *
 * The rules follow libsodium's crypto_sign_verify_detached, which signs
 * the cards: S must be below the group order L, A and R must be canonical
 * encodings of curve points of more than small order, and the signature
 * holds when the encoding of [S]B - [k]A is exactly the bytes of R, with
 * k = SHA-512(R || A || M) mod L.
 *
 *   CivicardEd25519.verify(publicKey, message, signature) -> Promise<bool>
 * (all three Uint8Array; never throws for bad input, answers false). */
(function (global) {
	'use strict';

	/* The field: integers mod p = 2^255 - 19. */
	var P = (1n << 255n) - 19n;
	/* The order of the base point. */
	var L = (1n << 252n) + 27742317777372353535851937790883648493n;

	function mod(a, m) {
		var r = a % m;
		return r < 0n ? r + m : r;
	}

	function pow(b, e, m) {
		var r = 1n;
		b = mod(b, m);
		while (e > 0n) {
			if (e & 1n)
				r = r * b % m;
			b = b * b % m;
			e >>= 1n;
		}
		return r;
	}

	function inv(a) {
		return pow(a, P - 2n, P);   /* Fermat: a^(p-2) = 1/a */
	}

	/* The curve -x^2 + y^2 = 1 + d x^2 y^2, d = -121665/121666. */
	var D = mod(-121665n * inv(121666n), P);
	var D2 = mod(2n * D, P);
	var SQRT_M1 = pow(2n, (P - 1n) / 4n, P);   /* a square root of -1 */

	/* Points in extended coordinates (X, Y, Z, T): x = X/Z, y = Y/Z,
	 * x*y = T/Z. */
	var IDENTITY = [0n, 1n, 1n, 0n];

	/* RFC 8032, 5.1.4: addition, complete on this curve. */
	function add(p, q) {
		var a = mod((p[1] - p[0]) * (q[1] - q[0]), P);
		var b = mod((p[1] + p[0]) * (q[1] + q[0]), P);
		var c = mod(p[3] * D2 % P * q[3], P);
		var d = mod(2n * p[2] * q[2], P);
		var e = b - a, f = d - c, g = d + c, h = b + a;
		return [mod(e * f, P), mod(g * h, P), mod(f * g, P), mod(e * h, P)];
	}

	/* Doubling, the cheaper formula of the same section. */
	function double(p) {
		var a = p[0] * p[0] % P;
		var b = p[1] * p[1] % P;
		var c = 2n * p[2] * p[2] % P;
		var h = a + b;
		var s = p[0] + p[1];
		var e = h - s * s % P;
		var g = a - b;
		var f = c + g;
		return [mod(e * f, P), mod(g * h, P), mod(f * g, P), mod(e * h, P)];
	}

	function negate(p) {
		return [mod(-p[0], P), p[1], p[2], mod(-p[3], P)];
	}

	/* [n]p, by double-and-add from the top bit; n >= 0. */
	function multiply(p, n) {
		var r = IDENTITY;
		for (var i = BigInt(n.toString(2).length) - 1n; i >= 0n; i--) {
			r = double(r);
			if ((n >> i) & 1n)
				r = add(r, p);
		}
		return r;
	}

	function isIdentity(p) {
		/* x = 0 and y = 1, that is X = 0 and Y = Z. */
		return mod(p[0], P) === 0n && mod(p[1] - p[2], P) === 0n;
	}

	/* Little-endian bytes <-> integers. */
	function bytesToInt(b) {
		var n = 0n;
		for (var i = b.length - 1; i >= 0; i--)
			n = (n << 8n) | BigInt(b[i]);
		return n;
	}

	/* RFC 8032, 5.1.2: 32 bytes, y with the low bit of x in the top bit. */
	function encode(p) {
		var zi = inv(p[2]);
		var x = p[0] * zi % P, y = p[1] * zi % P;
		var out = new Uint8Array(32);
		var n = y;
		for (var i = 0; i < 32; i++) {
			out[i] = Number(n & 255n);
			n >>= 8n;
		}
		if (x & 1n)
			out[31] |= 0x80;
		return out;
	}

	/* x from y and the sign bit, or null (5.1.3, steps 2 to 4). */
	function recoverX(y, sign) {
		var y2 = y * y % P;
		var u = mod(y2 - 1n, P);            /* x^2 = u / v */
		var v = mod(D * y2 + 1n, P);
		var v3 = v * v % P * v % P;
		var v7 = v3 * v3 % P * v % P;
		var x = u * v3 % P * pow(u * v7, (P - 5n) / 8n, P) % P;
		var vx2 = v * x % P * x % P;
		if (vx2 === u) {
			/* x is a root */
		} else if (vx2 === mod(-u, P)) {
			x = x * SQRT_M1 % P;
		} else {
			return null;                   /* not on the curve */
		}
		if (x === 0n && sign === 1)
			return null;                   /* -0 is not canonical */
		if (Number(x & 1n) !== sign)
			x = P - x;
		return x;
	}

	/* 5.1.3: a point from its 32 bytes, or null when they are not the
	 * canonical encoding of a point. */
	function decode(b) {
		if (!b || b.length !== 32)
			return null;
		var sign = b[31] >> 7;
		var copy = Uint8Array.from(b);
		copy[31] &= 0x7f;
		var y = bytesToInt(copy);
		if (y >= P)
			return null;
		var x = recoverX(y, sign);
		if (x === null)
			return null;
		return [x, y, 1n, x * y % P];
	}

	/* The base point: y = 4/5, x the even root. */
	var BY = 4n * inv(5n) % P;
	var B = [recoverX(BY, 0), BY, 1n, 0n];
	B[3] = B[0] * BY % P;

	/* A point whose [8] multiple is the identity has small order. */
	function smallOrder(p) {
		return isIdentity(double(double(double(p))));
	}

	function equalBytes(a, b) {
		if (a.length !== b.length)
			return false;
		var diff = 0;
		for (var i = 0; i < a.length; i++)
			diff |= a[i] ^ b[i];
		return diff === 0;
	}

	function concat(parts) {
		var n = 0, i, o = 0;
		for (i = 0; i < parts.length; i++)
			n += parts[i].length;
		var out = new Uint8Array(n);
		for (i = 0; i < parts.length; i++) {
			out.set(parts[i], o);
			o += parts[i].length;
		}
		return out;
	}

	async function verify(publicKey, message, signature) {
		try {
			if (!(publicKey instanceof Uint8Array) || !(message instanceof Uint8Array) ||
			    !(signature instanceof Uint8Array) || publicKey.length !== 32 ||
			    signature.length !== 64)
				return false;
			var rBytes = signature.subarray(0, 32);
			var s = bytesToInt(signature.subarray(32, 64));
			if (s >= L)
				return false;
			var a = decode(publicKey), r = decode(rBytes);
			if (!a || !r || smallOrder(a) || smallOrder(r))
				return false;
			var digest = await global.crypto.subtle.digest('SHA-512',
				concat([rBytes, publicKey, message]));
			var k = bytesToInt(new Uint8Array(digest)) % L;
			/* [S]B - [k]A must be R itself. */
			var check = add(multiply(B, s), negate(multiply(a, k)));
			return equalBytes(encode(check), rBytes);
		} catch (e) {
			return false;
		}
	}

	global.CivicardEd25519 = Object.freeze({ verify: verify });
}(self));
