/* throttle.c — count login failures per key in a bounded table.
 *
 * Keys are hashed with a per-process random key, so the table holds no
 * user name or address in the clear and cannot be steered into collisions.
 * A key may fail `limit` times per window; after that it waits for the
 * window to end. When the table is full the stalest entry is replaced. */
#include "auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096
#define PROBES 8

struct slot {
	uint64_t key;       /* 0 = empty */
	int64_t window_start;
	int failures;
};

struct throttle {
	pthread_mutex_t lock;
	int limit;
	int window;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
	struct slot slots[SLOTS];
};

struct throttle *throttle_new(int limit, int window_seconds)
{
	struct throttle *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	t->limit = limit;
	t->window = window_seconds;
	crypto_shorthash_keygen(t->hash_key);
	return t;
}

void throttle_free(struct throttle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static uint64_t key_of(const struct throttle *t, const char *key)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t k = 0;
	crypto_shorthash(h, (const uint8_t *)key, strlen(key), t->hash_key);
	memcpy(&k, h, sizeof k);
	return k ? k : 1;
}

/* The slot for k: its own, else an empty or expired one, else the stalest. */
static struct slot *find(struct throttle *t, uint64_t k, int64_t now, int create)
{
	struct slot *victim = NULL;
	int victim_free = 0;
	for (int i = 0; i < PROBES; i++) {
		struct slot *s = &t->slots[(k + (uint64_t)i) % SLOTS];
		if (s->key == k)
			return s;
		int is_free = s->key == 0 || now - s->window_start >= t->window;
		if (is_free && !victim_free) {
			victim = s;
			victim_free = 1;
		} else if (!victim_free && (!victim || s->window_start < victim->window_start)) {
			victim = s;
		}
	}
	if (!create)
		return NULL;
	victim->key = k;
	victim->window_start = now;
	victim->failures = 0;
	return victim;
}

int throttle_wait(struct throttle *t, const char *key, int64_t now)
{
	uint64_t k = key_of(t, key);
	int wait = 0;
	pthread_mutex_lock(&t->lock);
	struct slot *s = find(t, k, now, 0);
	if (s && now - s->window_start < t->window && s->failures >= t->limit)
		wait = (int)(s->window_start + t->window - now);
	pthread_mutex_unlock(&t->lock);
	return wait;
}

void throttle_fail(struct throttle *t, const char *key, int64_t now)
{
	uint64_t k = key_of(t, key);
	pthread_mutex_lock(&t->lock);
	struct slot *s = find(t, k, now, 1);
	if (now - s->window_start >= t->window) {
		s->window_start = now;
		s->failures = 0;
	}
	s->failures++;
	pthread_mutex_unlock(&t->lock);
}

void throttle_clear(struct throttle *t, const char *key)
{
	uint64_t k = key_of(t, key);
	pthread_mutex_lock(&t->lock);
	struct slot *s = find(t, k, 0, 0);
	if (s)
		memset(s, 0, sizeof *s);
	pthread_mutex_unlock(&t->lock);
}
