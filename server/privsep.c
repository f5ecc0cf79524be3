/*
 * privsep.c — the typed messages between sealdropd's processes (include/sealdrop/privsep.h):
 * the framing (a type and a length, then the payload) and the codecs of the key process's
 * requests and answers. Start at the table of types (limits[]), then sd_privsep_recv;
 * each codec pair below writes and reads the same fields in the same order.
 *
 * Decoders are strict because the decoding side must assume the other process is
 * compromised: every length is checked against the field it fills, nothing is left over,
 * and what decodes is a well-formed structure the signing function then checks again.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/log.h"
#include "sealdrop/privsep.h"
#include "sealdrop/storewire.h"

#define STR(n)   (2 + (n))
#define BOX(n)   (4 + (n))
#define DATE     4
#define CASE_MAX (SD_CASE_NUMBER_BYTES - 1)
#define WHAT     "privsep message"

#define RECEIPT_MAX                                                                                                    \
	(4 + STR(SD_DEPLOYMENT_MAX) + STR(CASE_MAX) + 32 + DATE + DATE + STR(SD_RECEIPT_NAME_MAX) + 1 + 8 + 1 + 32)
#define NOTICE_MAX                                                                                                     \
	(4 + STR(SD_DEPLOYMENT_MAX) + STR(CASE_MAX) + 4 + DATE + 4 + BOX(SD_NOTICE_BOX_MAX) + 1 +                      \
	 BOX(SD_NOTICE_BOX_MAX) + BOX(SD_NOTICE_BOX_MAX))
#define HEAD_MAX (4 + STR(SD_DEPLOYMENT_MAX) + 8 + SD_MERKLE_HASH_BYTES + DATE)
#define EXPORT_MAX                                                                                                     \
	(4 + STR(SD_DEPLOYMENT_MAX) + STR(CASE_MAX) + STR(SD_AGENCY_ID_MAX) + SD_KEY_ID_BYTES + SD_HASH_BYTES +        \
	 SD_HASH_BYTES + DATE + 8)

static const struct {
	uint32_t type, answer;
	long max;
} limits[] = {
        {SD_PRIVSEP_READY, 0, 0},
        {SD_PRIVSEP_REFUSED, 0, 4},
        {SD_PRIVSEP_SIGN_RECEIPT, SD_PRIVSEP_SIGNED_RECEIPT, RECEIPT_MAX},
        {SD_PRIVSEP_SIGN_NOTICE, SD_PRIVSEP_SIGNED_NOTICE, NOTICE_MAX},
        {SD_PRIVSEP_SIGN_HEAD, SD_PRIVSEP_SIGNED_HEAD, HEAD_MAX},
        {SD_PRIVSEP_SIGN_EXPORT, SD_PRIVSEP_SIGNED_EXPORT, EXPORT_MAX},
        {SD_PRIVSEP_SIGNED_RECEIPT, 0, SD_RECEIPT_MAX_BYTES},
        {SD_PRIVSEP_SIGNED_NOTICE, 0, SD_NOTICE_MAX_BYTES},
        {SD_PRIVSEP_SIGNED_HEAD, 0, SD_LOGHEAD_MAX_BYTES},
        {SD_PRIVSEP_SIGNED_EXPORT, 0, SD_EXPORT_RECEIPT_MAX_BYTES},
        {SD_PRIVSEP_STORE_REQUEST, SD_PRIVSEP_STORE_REPLY, (long)SD_STOREWIRE_REQ_MAX},
        {SD_PRIVSEP_STORE_FAILED, 0, 4 + SD_PRIVSEP_FAILURE_TEXT_MAX},
        {SD_PRIVSEP_STORE_REPLY, 0, (long)SD_STOREWIRE_REPLY_MAX},
};

long sd_privsep_max(uint32_t type)
{
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (limits[i].type == type)
			return limits[i].max;
	return -1;
}

uint32_t sd_privsep_answer_type(uint32_t request)
{
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (limits[i].type == request)
			return limits[i].answer;
	return 0;
}

/* --- Framing ------------------------------------------------------------------------------ */

/* The peer closed its socket: cleanly between messages, or mid-message (an I/O error). */
static int closed(bool mid)
{
	return mid ? sd_error(SD_ERR_IO, "the other process closed its socket mid-message")
	           : sd_error(SD_ERR_UNAVAILABLE, "the other process closed its socket");
}

/* A read's result once a message has begun: a close there is mid-message. */
static int within_message(int r)
{
	return r == SD_ERR_UNAVAILABLE ? closed(true) : r;
}

int sd_privsep_read_full(int fd, uint8_t *buf, size_t n, size_t *got)
{
	ssize_t k;

	*got = 0;
	while (*got < n) {
		if ((k = read(fd, buf + *got, n - *got)) < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return sd_error(SD_ERR_IO, "reading from the other process: %s", strerror(errno));
		if (k == 0)
			return closed(*got > 0);
		*got += (size_t)k;
	}
	return 0;
}

int sd_privsep_write_full(int fd, const uint8_t *buf, size_t n)
{
	size_t done = 0;
	ssize_t k;

	while (done < n) {
		if ((k = write(fd, buf + done, n - done)) < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return sd_error(SD_ERR_IO, "writing to the other process: %s",
			                k < 0 ? strerror(errno) : "nothing");
		done += (size_t)k;
	}
	return 0;
}

/* A message's header; a type or length this side may not send is an internal error. */
static int header_make(uint8_t hdr[SD_PRIVSEP_HEADER_BYTES], uint32_t type, size_t len)
{
	long max = sd_privsep_max(type);

	if (max < 0 || len > (size_t)max)
		return sd_error(SD_ERR_INTERNAL, "message type 0x%x with %zu bytes is not in the protocol", type, len);
	sd_store_le32(hdr, type);
	sd_store_le32(hdr + 4, (uint32_t)len);
	return 0;
}

int sd_privsep_send(int fd, uint32_t type, const uint8_t *payload, size_t len)
{
	uint8_t hdr[SD_PRIVSEP_HEADER_BYTES];
	int r;

	if ((r = header_make(hdr, type, len)) < 0 || (r = sd_privsep_write_full(fd, hdr, sizeof(hdr))) < 0 || len == 0)
		return r;
	return sd_privsep_write_full(fd, payload, len);
}

void sd_privsep_describe_status(int status, char *out, size_t cap)
{
	if (WIFSIGNALED(status))
		snprintf(out, cap, "killed by signal %d (SIG%s)%s", WTERMSIG(status), sigabbrev_np(WTERMSIG(status)),
		         WTERMSIG(status) == SIGSYS ? ": a system call outside its allow-list" : "");
	else
		snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
}

int sd_privsep_reap(pid_t pid, int *status, unsigned timeout_ms)
{
	struct timespec tick = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
	pid_t r;

	for (unsigned waited = 0; (r = waitpid(pid, status, WNOHANG)) == 0 && waited < timeout_ms; waited += 10)
		nanosleep(&tick, NULL);
	if (r == 0) {
		sd_log(SD_LOG_WARN, "child process %ld has not ended %u ms after its socket closed: killing it",
		       (long)pid, timeout_ms);
		kill(pid, SIGKILL);
		r = waitpid(pid, status, 0);
	}
	return r == pid ? 0 : sd_error(SD_ERR_INTERNAL, "waitpid %ld: %s", (long)pid, strerror(errno));
}

int sd_privsep_header_decode(const uint8_t hdr[SD_PRIVSEP_HEADER_BYTES], uint32_t *type, size_t *len)
{
	uint32_t t = sd_load_le32(hdr), n = sd_load_le32(hdr + 4);
	long max = sd_privsep_max(t);

	if (max < 0)
		return sd_error(SD_ERR_PROTOCOL, "%s: unknown type 0x%x", WHAT, t);
	if (n > (unsigned long)max)
		return sd_error(SD_ERR_PROTOCOL, "%s: type 0x%x with %u bytes, over its maximum of %ld", WHAT, t, n,
		                max);
	*type = t;
	*len = n;
	return 0;
}

int sd_privsep_recv(int fd, uint32_t *type, uint8_t **payload, size_t *len)
{
	uint8_t hdr[SD_PRIVSEP_HEADER_BYTES], *p = NULL;
	size_t got;
	int r;

	*payload = NULL;
	*len = 0;
	if ((r = sd_privsep_read_full(fd, hdr, sizeof(hdr), &got)) < 0 ||
	    (r = sd_privsep_header_decode(hdr, type, len)) < 0)
		return r;
	if (*len == 0)
		return 0;
	if ((p = malloc(*len)) == NULL)
		return SD_ERR_NOMEM;
	if ((r = sd_privsep_read_full(fd, p, *len, &got)) < 0) {
		free(p);
		return within_message(r);
	}
	*payload = p;
	return 0;
}

/* --- Buffered reading and batched writing ---------------------------------------------------- */

int sd_privsep_reader_init(sd_privsep_reader_t *rd, int fd, size_t cap)
{
	*rd = (sd_privsep_reader_t){.fd = fd, .cap = cap};
	if (cap < SD_PRIVSEP_HEADER_BYTES)
		return sd_error(SD_ERR_USAGE, "a message buffer of %zu bytes cannot hold a header", cap);
	if ((rd->buf = malloc(cap)) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for a message buffer");
	return 0;
}

void sd_privsep_reader_free(sd_privsep_reader_t *rd)
{
	free(rd->buf);
	free(rd->big);
	*rd = (sd_privsep_reader_t){.fd = -1};
}

/* Reads until at least want bytes are buffered (want ≤ cap), moving what is left to the
 * front first when it would not fit; one read takes whatever the peer has sent. */
static int reader_fill(sd_privsep_reader_t *rd, size_t want)
{
	ssize_t k;

	if (rd->start + want > rd->cap) {
		memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
		rd->end -= rd->start;
		rd->start = 0;
	}
	while (rd->end - rd->start < want) {
		if ((k = read(rd->fd, rd->buf + rd->end, rd->cap - rd->end)) < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return sd_error(SD_ERR_IO, "reading from the other process: %s", strerror(errno));
		if (k == 0)
			return closed(rd->end > rd->start);
		rd->end += (size_t)k;
	}
	return 0;
}

/* A payload larger than the buffer: what is buffered of it, then the rest read straight in. */
static int reader_big(sd_privsep_reader_t *rd, size_t len, const uint8_t **payload)
{
	size_t have = rd->end - rd->start, got;
	int r;

	if ((rd->big = malloc(len)) == NULL)
		return sd_error(SD_ERR_NOMEM, "out of memory for a message of %zu bytes", len);
	memcpy(rd->big, rd->buf + rd->start, have);
	rd->start = rd->end = 0;
	if ((r = sd_privsep_read_full(rd->fd, rd->big + have, len - have, &got)) < 0)
		return within_message(r);
	*payload = rd->big;
	return 0;
}

int sd_privsep_reader_next(sd_privsep_reader_t *rd, uint32_t *type, const uint8_t **payload, size_t *len)
{
	int r;

	free(rd->big);
	rd->big = NULL;
	*payload = NULL;
	*len = 0;
	if ((r = reader_fill(rd, SD_PRIVSEP_HEADER_BYTES)) < 0 ||
	    (r = sd_privsep_header_decode(rd->buf + rd->start, type, len)) < 0)
		return r;
	rd->start += SD_PRIVSEP_HEADER_BYTES;
	if (*len > rd->cap)
		return reader_big(rd, *len, payload);
	if ((r = reader_fill(rd, *len)) < 0)
		return within_message(r);
	*payload = *len > 0 ? rd->buf + rd->start : NULL;
	rd->start += *len;
	return 0;
}

void sd_privsep_batch_drop(sd_privsep_batch_t *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->payload[i]);
	b->n = b->bytes = 0;
}

/* writev until every byte of iov[0..n) is written, stepping over what a short write took. */
static int writev_full(int fd, struct iovec *iov, int n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = writev(fd, iov, n)) < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return sd_error(SD_ERR_IO, "writing to the other process: %s",
			                k < 0 ? strerror(errno) : "nothing");
		for (; n > 0 && (size_t)k >= iov->iov_len; iov++, n--)
			k -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

int sd_privsep_batch_flush(sd_privsep_batch_t *b, int fd)
{
	struct iovec iov[2 * SD_PRIVSEP_BATCH_MAX];
	int n = 0, r;

	if (b->n == 0)
		return 0;
	for (size_t i = 0; i < b->n; i++) {
		iov[n++] = (struct iovec){.iov_base = b->head[i], .iov_len = SD_PRIVSEP_HEADER_BYTES};
		if (b->len[i] > 0)
			iov[n++] = (struct iovec){.iov_base = b->payload[i], .iov_len = b->len[i]};
	}
	r = writev_full(fd, iov, n);
	sd_privsep_batch_drop(b);
	return r;
}

int sd_privsep_batch_add(sd_privsep_batch_t *b, int fd, uint32_t type, uint8_t *payload, size_t len)
{
	int r;

	if ((r = header_make(b->head[b->n], type, len)) < 0) {
		free(payload);
		return r;
	}
	b->payload[b->n] = payload;
	b->len[b->n] = len;
	b->n++;
	b->bytes += len;
	if (b->n == SD_PRIVSEP_BATCH_MAX || b->bytes >= SD_PRIVSEP_BATCH_BYTES)
		r = sd_privsep_batch_flush(b, fd);
	return r;
}

/* --- Fields --------------------------------------------------------------------------------- */

/* The string in field (cap bytes with its NUL) fits a str of at most max bytes. */
static bool str_fits(const char *field, size_t cap, size_t max)
{
	size_t n = strnlen(field, cap);

	return n < cap && n <= max;
}

static void wr_str(sd_wr_t *w, const char *s)
{
	size_t n = strlen(s);

	sd_wr_u16(w, (uint16_t)n);
	sd_wr_bytes(w, s, n);
}

/* A str of at most max bytes into out (max + 1 bytes), NUL-terminated; no NUL inside. */
static void rd_str(sd_rd_t *r, char *out, size_t max)
{
	uint16_t n = sd_rd_u16(r);
	const uint8_t *p;

	out[0] = '\0';
	if (r->failed)
		return;
	if (n > max || (p = sd_rd_take(r, n)) == NULL || memchr(p, '\0', n) != NULL) {
		r->failed = true;
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

static bool rd_bool(sd_rd_t *r)
{
	uint8_t v = sd_rd_u8(r);

	if (v > 1)
		r->failed = true;
	return v == 1;
}

static void rd_date(sd_rd_t *r, sd_date_t *out)
{
	uint32_t v = sd_rd_u32(r);

	*out = (sd_date_t){0, 0, 0};
	if (!r->failed && sd_date_from_u32(v, out) < 0)
		r->failed = true;
}

static bool date_fits(sd_date_t d)
{
	return sd_date_is_valid(d.y, d.m, d.d);
}

/* The end of every decoder: SD_ERR_PROTOCOL unless every field read and nothing is left. */
static int rd_end(const sd_rd_t *r, const char *what)
{
	if (r->failed)
		return sd_error(SD_ERR_PROTOCOL, "%s: %s: a field is short or out of range", WHAT, what);
	if (r->off != r->len)
		return sd_error(SD_ERR_PROTOCOL, "%s: %s: %zu bytes left over", WHAT, what, r->len - r->off);
	return 0;
}

/* The end of every encoder: the payload, or SD_ERR_INTERNAL if it did not fit max. */
static int wr_end(sd_wr_t *w, uint8_t *buf, uint8_t **out, size_t *len)
{
	if (w->failed) {
		free(buf);
		return sd_error(SD_ERR_INTERNAL, "%s: the payload does not fit its maximum", WHAT);
	}
	*out = buf;
	*len = w->len;
	return 0;
}

static int wr_begin(long max, uint8_t **buf, sd_wr_t *w)
{
	if ((*buf = malloc((size_t)max)) == NULL)
		return SD_ERR_NOMEM;
	*w = sd_wr_init(*buf, (size_t)max);
	return 0;
}

/* --- Receipt -------------------------------------------------------------------------------- */

int sd_privsep_encode_receipt(const sd_receipt_t *rc, uint8_t **out, size_t *len)
{
	uint8_t *buf;
	sd_wr_t w;
	int r;

	*out = NULL;
	if (!str_fits(rc->deployment, sizeof(rc->deployment), SD_DEPLOYMENT_MAX) ||
	    !str_fits(rc->case_number, sizeof(rc->case_number), CASE_MAX) ||
	    !str_fits(rc->attorney, sizeof(rc->attorney), SD_RECEIPT_NAME_MAX) || !date_fits(rc->received) ||
	    !date_fits(rc->decision_due))
		return sd_error(SD_ERR_INVALID, "receipt: a field does not fit the key process's message");
	if ((r = wr_begin(RECEIPT_MAX, &buf, &w)) < 0)
		return r;
	sd_wr_u32(&w, rc->version);
	wr_str(&w, rc->deployment);
	wr_str(&w, rc->case_number);
	sd_wr_bytes(&w, rc->header_digest, sizeof(rc->header_digest));
	sd_wr_u32(&w, sd_date_to_u32(rc->received));
	sd_wr_u32(&w, sd_date_to_u32(rc->decision_due));
	wr_str(&w, rc->attorney);
	sd_wr_u8(&w, rc->has_leaf ? 1 : 0);
	sd_wr_u64(&w, rc->leaf_index);
	sd_wr_u8(&w, rc->has_attorney_cert ? 1 : 0);
	sd_wr_bytes(&w, rc->attorney_cert, sizeof(rc->attorney_cert));
	return wr_end(&w, buf, out, len);
}

int sd_privsep_decode_receipt(const uint8_t *p, size_t len, sd_receipt_t *out)
{
	sd_rd_t r = sd_rd_init(p, len);

	memset(out, 0, sizeof(*out));
	out->version = sd_rd_u32(&r);
	rd_str(&r, out->deployment, SD_DEPLOYMENT_MAX);
	rd_str(&r, out->case_number, CASE_MAX);
	sd_rd_copy(&r, out->header_digest, sizeof(out->header_digest));
	rd_date(&r, &out->received);
	rd_date(&r, &out->decision_due);
	rd_str(&r, out->attorney, SD_RECEIPT_NAME_MAX);
	out->has_leaf = rd_bool(&r);
	out->leaf_index = sd_rd_u64(&r);
	out->has_attorney_cert = rd_bool(&r);
	sd_rd_copy(&r, out->attorney_cert, sizeof(out->attorney_cert));
	return rd_end(&r, "receipt");
}

/* --- Notice --------------------------------------------------------------------------------- */

static bool box_fits(const uint8_t *box, size_t len)
{
	return box != NULL && len > 0 && len <= SD_NOTICE_BOX_MAX;
}

static void wr_box(sd_wr_t *w, const uint8_t *box, size_t len)
{
	sd_wr_u32(w, (uint32_t)len);
	sd_wr_bytes(w, box, len);
}

/* A box of 1..SD_NOTICE_BOX_MAX bytes, malloc'd into *out. */
static void rd_box(sd_rd_t *r, uint8_t **out, size_t *len)
{
	uint32_t n = sd_rd_u32(r);
	const uint8_t *p;

	*out = NULL;
	*len = 0;
	if (r->failed)
		return;
	if (n == 0 || n > SD_NOTICE_BOX_MAX || (p = sd_rd_take(r, n)) == NULL || (*out = malloc(n)) == NULL) {
		r->failed = true;
		return;
	}
	memcpy(*out, p, n);
	*len = n;
}

int sd_privsep_encode_notice(const sd_notice_t *n, uint8_t **out, size_t *len)
{
	bool has_attorney = n->to_attorney != NULL;
	uint8_t *buf;
	sd_wr_t w;
	int r;

	*out = NULL;
	if (!str_fits(n->deployment, sizeof(n->deployment), SD_DEPLOYMENT_MAX) ||
	    !str_fits(n->case_number, sizeof(n->case_number), CASE_MAX) || !date_fits(n->date) ||
	    !box_fits(n->to_whistleblower, n->whistleblower_len) || !box_fits(n->to_commission, n->commission_len) ||
	    (has_attorney ? !box_fits(n->to_attorney, n->attorney_len) : n->attorney_len != 0))
		return sd_error(SD_ERR_INVALID, "notice: a field does not fit the key process's message");
	if ((r = wr_begin(NOTICE_MAX, &buf, &w)) < 0)
		return r;
	sd_wr_u32(&w, n->version);
	wr_str(&w, n->deployment);
	wr_str(&w, n->case_number);
	sd_wr_u32(&w, n->seq);
	sd_wr_u32(&w, sd_date_to_u32(n->date));
	sd_wr_u32(&w, (uint32_t)n->kind);
	wr_box(&w, n->to_whistleblower, n->whistleblower_len);
	sd_wr_u8(&w, has_attorney ? 1 : 0);
	if (has_attorney)
		wr_box(&w, n->to_attorney, n->attorney_len);
	wr_box(&w, n->to_commission, n->commission_len);
	return wr_end(&w, buf, out, len);
}

int sd_privsep_decode_notice(const uint8_t *p, size_t len, sd_notice_t *out)
{
	sd_rd_t r = sd_rd_init(p, len);
	int rc;

	memset(out, 0, sizeof(*out));
	out->version = sd_rd_u32(&r);
	rd_str(&r, out->deployment, SD_DEPLOYMENT_MAX);
	rd_str(&r, out->case_number, CASE_MAX);
	out->seq = sd_rd_u32(&r);
	rd_date(&r, &out->date);
	out->kind = (sd_notice_kind_t)sd_rd_u32(&r);
	rd_box(&r, &out->to_whistleblower, &out->whistleblower_len);
	if (rd_bool(&r))
		rd_box(&r, &out->to_attorney, &out->attorney_len);
	rd_box(&r, &out->to_commission, &out->commission_len);
	if ((rc = rd_end(&r, "notice")) < 0)
		sd_notice_clear(out);
	return rc;
}

/* --- Tree head ------------------------------------------------------------------------------ */

int sd_privsep_encode_head(const sd_loghead_t *h, uint8_t **out, size_t *len)
{
	uint8_t *buf;
	sd_wr_t w;
	int r;

	*out = NULL;
	if (!str_fits(h->deployment, sizeof(h->deployment), SD_DEPLOYMENT_MAX) || !date_fits(h->date))
		return sd_error(SD_ERR_INVALID, "tree head: a field does not fit the key process's message");
	if ((r = wr_begin(HEAD_MAX, &buf, &w)) < 0)
		return r;
	sd_wr_u32(&w, h->version);
	wr_str(&w, h->deployment);
	sd_wr_u64(&w, h->size);
	sd_wr_bytes(&w, h->root, sizeof(h->root));
	sd_wr_u32(&w, sd_date_to_u32(h->date));
	return wr_end(&w, buf, out, len);
}

int sd_privsep_decode_head(const uint8_t *p, size_t len, sd_loghead_t *out)
{
	sd_rd_t r = sd_rd_init(p, len);

	memset(out, 0, sizeof(*out));
	out->version = sd_rd_u32(&r);
	rd_str(&r, out->deployment, SD_DEPLOYMENT_MAX);
	out->size = sd_rd_u64(&r);
	sd_rd_copy(&r, out->root, sizeof(out->root));
	rd_date(&r, &out->date);
	return rd_end(&r, "tree head");
}

/* --- Export receipt ------------------------------------------------------------------------- */

int sd_privsep_encode_export(const sd_export_receipt_t *er, uint8_t **out, size_t *len)
{
	uint8_t *buf;
	sd_wr_t w;
	int r;

	*out = NULL;
	if (!str_fits(er->deployment, sizeof(er->deployment), SD_DEPLOYMENT_MAX) ||
	    !str_fits(er->case_number, sizeof(er->case_number), CASE_MAX) ||
	    !str_fits(er->agency, sizeof(er->agency), SD_AGENCY_ID_MAX) || !date_fits(er->date))
		return sd_error(SD_ERR_INVALID, "export receipt: a field does not fit the key process's message");
	if ((r = wr_begin(EXPORT_MAX, &buf, &w)) < 0)
		return r;
	sd_wr_u32(&w, er->version);
	wr_str(&w, er->deployment);
	wr_str(&w, er->case_number);
	wr_str(&w, er->agency);
	sd_wr_bytes(&w, er->agency_key_id, sizeof(er->agency_key_id));
	sd_wr_bytes(&w, er->header_digest, sizeof(er->header_digest));
	sd_wr_bytes(&w, er->bundle_digest, sizeof(er->bundle_digest));
	sd_wr_u32(&w, sd_date_to_u32(er->date));
	sd_wr_u64(&w, er->leaf_index);
	return wr_end(&w, buf, out, len);
}

int sd_privsep_decode_export(const uint8_t *p, size_t len, sd_export_receipt_t *out)
{
	sd_rd_t r = sd_rd_init(p, len);

	memset(out, 0, sizeof(*out));
	out->version = sd_rd_u32(&r);
	rd_str(&r, out->deployment, SD_DEPLOYMENT_MAX);
	rd_str(&r, out->case_number, CASE_MAX);
	rd_str(&r, out->agency, SD_AGENCY_ID_MAX);
	sd_rd_copy(&r, out->agency_key_id, sizeof(out->agency_key_id));
	sd_rd_copy(&r, out->header_digest, sizeof(out->header_digest));
	sd_rd_copy(&r, out->bundle_digest, sizeof(out->bundle_digest));
	rd_date(&r, &out->date);
	out->leaf_index = sd_rd_u64(&r);
	return rd_end(&r, "export receipt");
}

/* --- Answers -------------------------------------------------------------------------------- */

int sd_privsep_decode_json(uint32_t type, const uint8_t *p, size_t len, char **json)
{
	long max = sd_privsep_max(type);
	char *s;

	*json = NULL;
	if (max < 0 || (type & 0xff00u) != 0x8100u)
		return sd_error(SD_ERR_PROTOCOL, "%s: type 0x%x is not a signed document", WHAT, type);
	if (len == 0 || len > (size_t)max || memchr(p, '\0', len) != NULL)
		return sd_error(SD_ERR_PROTOCOL, "%s: a signed document of %zu bytes, empty, too long or with a NUL",
		                WHAT, len);
	if ((s = malloc(len + 1)) == NULL)
		return SD_ERR_NOMEM;
	memcpy(s, p, len);
	s[len] = '\0';
	*json = s;
	return 0;
}

int sd_privsep_encode_failure(int code, const char *text, uint8_t **out, size_t *len)
{
	size_t n = strnlen(text, SD_PRIVSEP_FAILURE_TEXT_MAX);
	uint8_t *p = malloc(4 + n);

	*out = NULL;
	if (p == NULL)
		return SD_ERR_NOMEM;
	sd_privsep_encode_refused(code, p);
	memcpy(p + 4, text, n);
	*out = p;
	*len = 4 + n;
	return 0;
}

int sd_privsep_decode_failure(const uint8_t *p, size_t len, int *code, char text[SD_PRIVSEP_FAILURE_TEXT_MAX + 1])
{
	int r;

	text[0] = '\0';
	if (len < 4 || len > 4 + SD_PRIVSEP_FAILURE_TEXT_MAX || memchr(p + 4, '\0', len - 4) != NULL)
		return sd_error(SD_ERR_PROTOCOL, "%s: a failure of %zu bytes, or with a NUL", WHAT, len);
	if ((r = sd_privsep_decode_refused(p, 4, code)) < 0)
		return r;
	memcpy(text, p + 4, len - 4);
	text[len - 4] = '\0';
	return 0;
}

void sd_privsep_encode_refused(int code, uint8_t out[4])
{
	sd_store_le32(out, (uint32_t)(int32_t)(code < SD_ERR_PROTOCOL || code >= 0 ? SD_ERR_INTERNAL : code));
}

int sd_privsep_decode_refused(const uint8_t *p, size_t len, int *code)
{
	int32_t v;

	if (len != 4)
		return sd_error(SD_ERR_PROTOCOL, "%s: a refusal of %zu bytes, not 4", WHAT, len);
	v = (int32_t)sd_load_le32(p);
	if (v < SD_ERR_PROTOCOL || v >= 0)
		return sd_error(SD_ERR_PROTOCOL, "%s: a refusal with code %d, not an error", WHAT, (int)v);
	*code = v;
	return 0;
}
