/* pool.h — a fixed set of worker threads with a bounded queue, for work
 * too slow for the HTTP polling threads (Argon2id, PDFs). */
#ifndef CIVICARD_POOL_H
#define CIVICARD_POOL_H

struct pool;
typedef void (*pool_fn)(void *arg);

/* 0 or -1. */
int pool_start(unsigned threads, unsigned queue_max, struct pool **ret);
/* 0, or -1 when the queue is full or the pool is stopping. */
int pool_submit(struct pool *p, pool_fn fn, void *arg);
/* Run what is queued, then join every thread and free. Accepts NULL. */
void pool_stop(struct pool *p);

#endif
