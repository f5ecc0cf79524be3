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
 *
 * The write stages write with O_DIRECT where the file system allows it: buffered
 * write(2) of fresh pages was the erratic half of seal and open on this class of
 * machine (a page-cache copy per byte, then writeback stalls), direct writes are not.
 * Unaligned pieces and file systems without O_DIRECT fall back to the page cache.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "envelope_int.h"
#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"

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
	int caller; /* the stage the caller runs */
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

static uint8_t *align_up(uint8_t *p)
{
	return p + ((SDX_DIRECT_ALIGN - (uintptr_t)p % SDX_DIRECT_ALIGN) % SDX_DIRECT_ALIGN);
}

/* Plaintext stays in sodium_malloc'd memory (locked, guarded, wiped on free); the
 * region is one alignment unit larger so out can start on a direct-I/O boundary. */
static int slot_alloc(sdx_slot_t *s, size_t cap, bool with_out)
{
	s->buf = malloc(cap);
	if (with_out && (s->out_mem = sodium_malloc(cap + SDX_DIRECT_ALIGN)) != NULL)
		s->out = align_up(s->out_mem);
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
		p->stages[i] = (stage_t){.p = p, .index = i, .fn = fns[i]};
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
	/* Once per chunk: the place an interrupted command stops and unwinds. */
	if (sd_is_cancelled())
		fail_locked(p, SD_ERR_CANCELLED, "interrupted; nothing was written");
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
		sodium_free(p->slots[i].out_mem);
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

/* --- direct output --------------------------------------------------------------- */

static atomic_bool direct_refused;       /* set by tests to force the buffered fallback */
static atomic_uint_fast64_t direct_done; /* bytes written with O_DIRECT, for tests */

void sdx_direct_allow(bool allow)
{
	atomic_store(&direct_refused, !allow);
}

uint64_t sdx_direct_bytes(void)
{
	return (uint64_t)atomic_load(&direct_done);
}

/* fcntl rather than open(O_DIRECT): an open that creates the file and then fails with
 * EINVAL would leave it behind, and the descriptor is often not ours to open (fileio.c). */
void sdx_direct_enable(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (!atomic_load(&direct_refused) && flags >= 0)
		(void)fcntl(fd, F_SETFL, flags | O_DIRECT); /* EINVAL: stays buffered */
}

int sdx_direct_disable(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0 && (flags & O_DIRECT) == 0)
		return 0;
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_DIRECT) != 0)
		return sd_error(SD_ERR_IO, "cannot leave direct I/O: %s", strerror(errno));
	return 0;
}

static bool is_aligned(const uint8_t *buf, size_t len, uint64_t off)
{
	return (uintptr_t)buf % SDX_DIRECT_ALIGN == 0 && len % SDX_DIRECT_ALIGN == 0 && off % SDX_DIRECT_ALIGN == 0;
}

/* A file system may want a coarser alignment than ours, or a short direct write may
 * leave the rest unaligned: EINVAL then means "write it buffered", not failure. */
int sdx_pwrite(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	int flags = fcntl(fd, F_GETFL);
	bool direct = flags >= 0 && (flags & O_DIRECT) != 0;
	size_t done = 0;
	int ret;

	if (direct && !is_aligned(buf, len, off)) {
		if ((ret = sdx_direct_disable(fd)) < 0)
			return ret;
		direct = false;
	}
	while (done < len) {
		ssize_t n = pwrite(fd, buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && direct) {
			if ((ret = sdx_direct_disable(fd)) < 0)
				return ret;
			direct = false;
			continue;
		}
		if (n <= 0)
			return sd_error(SD_ERR_IO, "write: %s", n < 0 ? strerror(errno) : "no progress");
		if (direct)
			atomic_fetch_add(&direct_done, (uint_fast64_t)n);
		done += (size_t)n;
	}
	return 0;
}

/* --- ciphertext writer (seal) -------------------------------------------------- */

/* The bytes between the aligned base and `start` are zeros that the header, written
 * last, overwrites: the kernel then reads that block back, which is correct. */
int sdx_cwriter_init(sdx_cwriter_t *w, int fd, uint64_t start)
{
	void *buf = NULL;

	*w = (sdx_cwriter_t){.fd = fd};
	if (posix_memalign(&buf, SDX_DIRECT_ALIGN, SDX_CWRITER_BYTES) != 0)
		return SD_ERR_NOMEM;
	w->buf = buf;
	w->base = start - start % SDX_DIRECT_ALIGN;
	w->fill = (size_t)(start - w->base);
	memset(w->buf, 0, w->fill);
	sdx_direct_enable(fd);
	return 0;
}

int sdx_stage_write_ciphertext(void *ctx, sdx_slot_t *s)
{
	sdx_cwriter_t *w = ctx;
	size_t done = 0;
	int ret;

	while (done < s->len) {
		size_t room = SDX_CWRITER_BYTES - w->fill, n = s->len - done < room ? s->len - done : room;
		memcpy(w->buf + w->fill, s->buf + done, n);
		w->fill += n;
		done += n;
		if (w->fill == SDX_CWRITER_BYTES) {
			if ((ret = sdx_pwrite(w->fd, w->buf, SDX_CWRITER_BYTES, w->base)) < 0)
				return ret;
			w->base += SDX_CWRITER_BYTES;
			w->fill = 0;
		}
	}
	return 0;
}

/* The aligned part of the remainder still goes direct; the tail and everything after
 * (the header) through the page cache. */
int sdx_cwriter_finish(sdx_cwriter_t *w)
{
	size_t aligned = w->fill - w->fill % SDX_DIRECT_ALIGN;
	int ret;

	if (aligned > 0 && (ret = sdx_pwrite(w->fd, w->buf, aligned, w->base)) < 0)
		return ret;
	if ((ret = sdx_direct_disable(w->fd)) < 0)
		return ret;
	if ((ret = sdx_pwrite(w->fd, w->buf + aligned, w->fill - aligned, w->base + aligned)) < 0)
		return ret;
	w->base += w->fill;
	w->fill = 0;
	return 0;
}

void sdx_cwriter_free(sdx_cwriter_t *w)
{
	free(w->buf);
	w->buf = NULL;
}

int sdx_stage_write_plaintext(void *ctx, sdx_slot_t *s)
{
	int ret = 0;

	(void)ctx;
	if (s->fd >= 0 && s->out_len > 0)
		ret = sdx_pwrite(s->fd, s->out, s->out_len, s->off);
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
