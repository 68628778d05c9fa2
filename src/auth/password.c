/* password.c — Argon2id hashing with bounded concurrency, and secrets. */
#include "auth.h"

#include <pthread.h>
#include <string.h>

/* Each Argon2id run takes ~45 ms and 64 MiB; cap how many run at once. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_limit = 2;
static int gate_busy;

void password_set_concurrency(int limit)
{
	pthread_mutex_lock(&gate_lock);
	gate_limit = limit > 0 ? limit : 1;
	pthread_mutex_unlock(&gate_lock);
}

static void gate_enter(void)
{
	pthread_mutex_lock(&gate_lock);
	while (gate_busy >= gate_limit)
		pthread_cond_wait(&gate_cond, &gate_lock);
	gate_busy++;
	pthread_mutex_unlock(&gate_lock);
}

static void gate_leave(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_busy--;
	pthread_cond_signal(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

int password_hash(const char *password, char out[crypto_pwhash_STRBYTES])
{
	gate_enter();
	int r = crypto_pwhash_str(out, password, strlen(password),
				  crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE);
	gate_leave();
	return r == 0 ? 0 : -1;
}

int password_verify(const char *password, const char *stored_hash)
{
	gate_enter();
	int r = crypto_pwhash_str_verify(stored_hash, password, strlen(password));
	gate_leave();
	return r == 0;
}

/* The dummy hash is made once, from a random password nobody knows. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
	char pw[SECRET_CHARS];
	secret_new(pw);
	if (crypto_pwhash_str(dummy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof pw);
}

void password_verify_dummy(const char *password)
{
	pthread_once(&dummy_once, make_dummy);
	(void)password_verify(password, dummy_hash);
}

const char *password_weakness(const char *password)
{
	size_t n = strlen(password);
	if (n < PASSWORD_MIN)
		return "shorter than 8 characters";
	if (n > PASSWORD_MAX)
		return "longer than 256 bytes";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

void secret_new(char out[SECRET_CHARS])
{
	uint8_t raw[32];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, SECRET_CHARS, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

void secret_hash(const char *secret, uint8_t out[SESSION_HASH_BYTES])
{
	crypto_generichash(out, SESSION_HASH_BYTES, (const uint8_t *)secret, strlen(secret),
			   NULL, 0);
}

void otp_new(char out[OTP_CHARS])
{
	/* No 0/O, 1/I/L, 5/S, 2/Z: read aloud or copied by hand without doubt. */
	static const char alphabet[] = "346789ABCDEFGHJKMNPQRTUVWXY";
	size_t o = 0;
	for (int g = 0; g < 4; g++) {
		for (int i = 0; i < 5; i++)
			out[o++] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
		out[o++] = g < 3 ? '-' : '\0';
	}
}
