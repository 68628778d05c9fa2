/* pool.c — worker threads fed from a ring buffer. */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

struct job {
	pool_fn fn;
	void *arg;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct job *ring;
	unsigned cap, head, count;
	int stopping;
	unsigned nthreads;
	pthread_t *threads;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->count == 0 && !p->stopping)
			pthread_cond_wait(&p->ready, &p->lock);
		if (p->count == 0) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		struct job j = p->ring[p->head];
		p->head = (p->head + 1) % p->cap;
		p->count--;
		pthread_mutex_unlock(&p->lock);
		j.fn(j.arg);
	}
}

int pool_start(unsigned threads, unsigned queue_max, struct pool **ret)
{
	struct pool *p = calloc(1, sizeof *p);
	if (!p)
		return -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->ready, NULL);
	p->cap = queue_max ? queue_max : 1;
	p->ring = calloc(p->cap, sizeof *p->ring);
	p->threads = calloc(threads ? threads : 1, sizeof *p->threads);
	if (!p->ring || !p->threads)
		goto fail;
	for (unsigned i = 0; i < (threads ? threads : 1); i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
			goto fail;
		p->nthreads++;
	}
	*ret = p;
	return 0;
fail:
	pool_stop(p);
	return -1;
}

int pool_submit(struct pool *p, pool_fn fn, void *arg)
{
	int r = -1;
	pthread_mutex_lock(&p->lock);
	if (!p->stopping && p->count < p->cap) {
		p->ring[(p->head + p->count) % p->cap] = (struct job){ fn, arg };
		p->count++;
		pthread_cond_signal(&p->ready);
		r = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

void pool_stop(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->ready);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->ready);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p->ring);
	free(p);
}
