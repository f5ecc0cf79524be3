/*
 * envelope_pipe.c — a small staged pipeline, so the envelope's work spreads over both
 * cores: hashing, encryption and write(2) (whose page-cache copies and dirty-page
 * throttling cost as much as the cryptography on this class of machine) overlap instead
 * of taking turns. docs/BENCHMARKS.md has the measurements that motivated it.
 *
 * A fixed ring of SDX_PIPE_SLOTS slots passes through the stages in order; one stage is
 * run by the caller (take/give), the others each by a thread. Memory is the ring, fixed
 * at creation, whatever the size of the file. The first error in any stage stops the
 * whole pipeline and is reported to the caller (its detail copied across threads).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <unistd.h>

#include "envelope_int.h"
#include "sealdrop/fileio.h"

#define SLOT_FREE (-1)

typedef struct sdx_pipe sdx_pipe_t;

typedef struct {
	sdx_pipe_t *p;
	int index;
	sdx_stage_fn fn;
	pthread_t thread;
	bool started;
} stage_t;

struct sdx_pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sdx_slot_t slots[SDX_PIPE_SLOTS];
	int state[SDX_PIPE_SLOTS]; /* last stage that finished the slot, or SLOT_FREE */
	unsigned cursor[SDX_PIPE_MAX_STAGES];
	stage_t stages[SDX_PIPE_MAX_STAGES];
	int n_stages;
	int caller;     /* the stage the caller runs */
	void *ctx;
	bool stopping;
	int err;
	char err_detail[256];
};

static bool ready_for(const sdx_pipe_t *p, int stage, unsigned slot)
{
	return p->state[slot] == (stage == 0 ? SLOT_FREE : stage - 1);
}

/* Under the lock: record the first failure and wake everyone. */
static void fail_locked(sdx_pipe_t *p, int err, const char *detail)
{
	if (p->err == 0) {
		p->err = err;
		snprintf(p->err_detail, sizeof(p->err_detail), "%s", detail);
	}
	pthread_cond_broadcast(&p->cv);
}

static void finish_locked(sdx_pipe_t *p, int stage)
{
	unsigned slot = p->cursor[stage];

	p->state[slot] = stage == p->n_stages - 1 ? SLOT_FREE : stage;
	p->cursor[stage] = (slot + 1) % SDX_PIPE_SLOTS;
	pthread_cond_broadcast(&p->cv);
}

static void *stage_main(void *arg)
{
	stage_t *st = arg;
	sdx_pipe_t *p = st->p;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		unsigned slot = p->cursor[st->index];
		while (p->err == 0 && !p->stopping && !ready_for(p, st->index, slot))
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->err != 0 || !ready_for(p, st->index, slot))
			break;
		pthread_mutex_unlock(&p->mu);
		int r = st->fn(p->ctx, &p->slots[slot]);
		pthread_mutex_lock(&p->mu);
		if (r < 0) {
			fail_locked(p, r, sd_error_detail());
			break;
		}
		if (r > 0) /* a source stage with nothing more to produce */
			break;
		finish_locked(p, st->index);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int slot_alloc(sdx_slot_t *s, size_t cap, bool with_out)
{
	s->buf = malloc(cap);
	if (with_out)
		s->out = sodium_malloc(cap);
	s->fd = -1;
	return s->buf == NULL || (with_out && s->out == NULL) ? SD_ERR_NOMEM : 0;
}

int sdx_pipe_new(sdx_pipe_t **out, const sdx_stage_fn *fns, int n_stages, void *ctx, size_t cap, bool with_out)
{
	sdx_pipe_t *p = calloc(1, sizeof(*p));
	int ret = SD_ERR_NOMEM;

	*out = NULL;
	if (p == NULL)
		return ret;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->n_stages = n_stages;
	p->ctx = ctx;
	p->caller = -1;
	for (unsigned i = 0; i < SDX_PIPE_SLOTS; i++) {
		p->state[i] = SLOT_FREE;
		if ((ret = slot_alloc(&p->slots[i], cap, with_out)) < 0)
			goto fail;
	}
	for (int i = 0; i < n_stages; i++) {
		p->stages[i] = (stage_t){ .p = p, .index = i, .fn = fns[i] };
		if (fns[i] == NULL) {
			p->caller = i;
			continue;
		}
		if (pthread_create(&p->stages[i].thread, NULL, stage_main, &p->stages[i]) != 0) {
			ret = sd_error(SD_ERR_INTERNAL, "cannot start a pipeline thread");
			goto fail;
		}
		p->stages[i].started = true;
	}
	*out = p;
	return 0;
fail:
	sdx_pipe_free(p);
	return ret;
}

static int error_locked(sdx_pipe_t *p)
{
	return p->err < 0 ? sd_error(p->err, "%s", p->err_detail) : 0;
}

int sdx_pipe_take(sdx_pipe_t *p, sdx_slot_t **out)
{
	int ret;

	pthread_mutex_lock(&p->mu);
	unsigned slot = p->cursor[p->caller];
	while (p->err == 0 && !ready_for(p, p->caller, slot))
		pthread_cond_wait(&p->cv, &p->mu);
	*out = &p->slots[slot];
	ret = error_locked(p);
	pthread_mutex_unlock(&p->mu);
	return ret;
}

int sdx_pipe_give(sdx_pipe_t *p)
{
	int ret;

	pthread_mutex_lock(&p->mu);
	finish_locked(p, p->caller);
	ret = error_locked(p);
	pthread_mutex_unlock(&p->mu);
	return ret;
}

void sdx_pipe_fail(sdx_pipe_t *p, int err)
{
	pthread_mutex_lock(&p->mu);
	fail_locked(p, err, sd_error_detail());
	pthread_mutex_unlock(&p->mu);
}

int sdx_pipe_drain(sdx_pipe_t *p)
{
	int ret;
	bool busy = true;

	pthread_mutex_lock(&p->mu);
	while (p->err == 0 && busy) {
		busy = false;
		for (unsigned i = 0; i < SDX_PIPE_SLOTS; i++)
			busy |= p->state[i] != SLOT_FREE;
		if (busy)
			pthread_cond_wait(&p->cv, &p->mu);
	}
	ret = error_locked(p);
	pthread_mutex_unlock(&p->mu);
	return ret;
}

void sdx_pipe_free(sdx_pipe_t *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n_stages; i++)
		if (p->stages[i].started)
			pthread_join(p->stages[i].thread, NULL);
	for (unsigned i = 0; i < SDX_PIPE_SLOTS; i++) {
		/* A slot that was to close its file never reached the write stage. */
		if (p->slots[i].close_fd && p->slots[i].fd >= 0)
			close(p->slots[i].fd);
		free(p->slots[i].buf);
		sodium_free(p->slots[i].out);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

int sdx_stage_hash(void *ctx, sdx_slot_t *s)
{
	(void)ctx;
	crypto_generichash(s->hash, SD_HASH_BYTES, s->buf, s->len, NULL, 0);
	return 0;
}

int sdx_stage_write_ciphertext(void *ctx, sdx_slot_t *s)
{
	(void)ctx;
	return sd_write_full(s->fd, s->buf, s->len);
}

int sdx_stage_write_plaintext(void *ctx, sdx_slot_t *s)
{
	int ret = 0;

	(void)ctx;
	if (s->fd >= 0 && s->out_len > 0)
		ret = sd_write_full(s->fd, s->out, s->out_len);
	sodium_memzero(s->out, s->out_len);
	s->out_len = 0;
	if (s->close_fd) {
		if (ret == 0 && fsync(s->fd) != 0)
			ret = sd_error(SD_ERR_IO, "fsync: %s", strerror(errno));
		close(s->fd);
		s->fd = -1;
		s->close_fd = false;
	}
	return ret;
}
