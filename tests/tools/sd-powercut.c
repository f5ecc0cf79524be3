/*
 * sd-powercut.c — a TEST TOOL, never part of sealdropd: rebuilds a data file as a power
 * cut could have left it, from the journal tests/preload/powercut.c wrote while the
 * server ran and a copy of the file from before the server started (the base image).
 * tests/soak/powerloss.sh runs it after each kill -9. Start at main(), then replay().
 *
 *   sd-powercut --journal J --base BASE --out OUT --seed N [--mode MODE] [--ignore-sync]
 *               [--file SUFFIX] [--list]
 *
 * The model. A write returned to the server has reached the page cache, not the disk. It
 * is DURABLE when it went through an O_DSYNC/O_SYNC descriptor (or RWF_DSYNC) and
 * returned, or when it had returned before an fsync/fdatasync/msync(MS_SYNC) of the same
 * file began and that sync then returned 0. Every other write (also one still running at
 * the cut) may or may not be on the disk, in part or whole, in any order. The image is the
 * base, then every durable write in the order they were made, then — by MODE:
 *   random    (the default) a random subset of the other writes, in a random order, some
 *             torn: only a prefix of their 512-byte sectors or a random subset of their
 *             4096-byte pages persists. A persisted piece never overwrites a byte that a
 *             LATER durable write covers (the disk holds that version or a newer one).
 *             A dropped write past the end of the file sometimes leaves the file size
 *             grown with zeros in place of its data (a size update without the data).
 *   keep-all  every write, whole, in order: what the page cache held (the control; equal
 *             to the file a kill -9 leaves). --control FILE compares the image with FILE
 *             (the file the kill left) byte for byte, but for the bytes of writes still
 *             running at the cut, and exits 3 when they differ.
 *   drop-all  only the durable writes.
 * --ignore-sync treats every write as not durable (syncs and O_DSYNC never happened): a
 * broken store, for the negative control. The file to rebuild is the one whose journalled
 * path ends with SUFFIX (default "/data.mdb"). A journal that truncates, fallocates or
 * maps the file writable is refused (exit 2): not modelled. A journal whose last record
 * is cut short (the kill came while the shim appended it) is read up to that record: its
 * call had not been made yet.
 *
 * Prints one line of figures: durable and non-durable writes, how many of the latter were
 * dropped (and their bytes), torn, reordered, zero-extended, and how many writes were still
 * running at the cut (keep-all applies those whole, so with one running its image may
 * differ from the killed server's file within that write), and where the cut came: "kill"
 * (a kill -9 from outside), or the kind of record the shim cut after (WRITE: before that
 * write was made; DONE: after it returned; SYNC0, SYNC1: before, after a sync). Exit 0, 1 on an I/O or usage
 * error, 2 on a journal it cannot model. The record layout is powercut.c's (struct pc_rec).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PC_MAGIC 0x43504453u
enum { PC_OPEN = 1, PC_WRITE, PC_DONE, PC_SYNC0, PC_SYNC1, PC_TRUNC, PC_FALLOC, PC_MAPW, PC_CLOSE, PC_CUT };
#define PC_F_DSYNC 0x1
#define SECTOR     512
#define PAGE       4096

struct pc_rec { /* as tests/preload/powercut.c writes it */
	uint32_t magic;
	uint16_t type;
	uint16_t flags;
	uint32_t file;
	int32_t fd;
	uint64_t seq;
	uint64_t ref;
	int64_t off;
	int64_t len;
	uint64_t plen;
};

struct wr {
	uint64_t seq, done_seq; /* done_seq 0: still running at the cut */
	int64_t off, len, result;
	const uint8_t *data;
	int dsync, durable;
};

struct opts {
	const char *journal, *base, *out, *mode, *suffix, *control;
	uint64_t seed;
	int ignore_sync, list;
};

struct stats {
	long durable, nondurable, kept, dropped, torn, reordered, zext, failed, syncs, running;
	long long dropped_bytes, durable_bytes;
	double p_keep;
};

static struct wr *w;
static size_t nw, cap_w;
static uint64_t *file_of_seq_write; /* seq -> index + 1 into w, for DONE */
static uint64_t last_sync_begin;    /* the latest SYNC0 (of the file) whose SYNC1 returned 0 */
static uint32_t target;             /* the file id being rebuilt */
static int partial_tail;
static uint64_t max_seq;
static const char *cut_type = "kill"; /* the kind of record the shim cut the power after */

static uint8_t *img;
static size_t img_len, img_cap;

static uint64_t rng;
static uint64_t rnd(void) /* splitmix64 */
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static double rnd01(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL) {
		fprintf(stderr, "sd-powercut: out of memory\n");
		exit(1);
	}
	return q;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL) {
		fprintf(stderr, "sd-powercut: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	do {
		if (cap - n < 65536)
			buf = xrealloc(buf, cap = cap * 2 + 65536);
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		fprintf(stderr, "sd-powercut: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	*len = n;
	return buf;
}

static int ends_with(const uint8_t *p, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);
	return n >= m && memcmp(p + n - m, suffix, m) == 0;
}

static const char *const type_names[] = {"?",     "OPEN",   "WRITE", "DONE",  "SYNC0", "SYNC1",
                                         "TRUNC", "FALLOC", "MAPW",  "CLOSE", "CUT"};

/* First pass: which file id is the one to rebuild (exactly one may match), and the
 * highest record number. */
static int find_target(const uint8_t *j, size_t jl, const char *suffix)
{
	struct pc_rec r;
	uint64_t top = 0;

	for (size_t at = 0; at + sizeof(r) <= jl; at += sizeof(r) + r.plen) {
		memcpy(&r, j + at, sizeof(r));
		if (r.magic != PC_MAGIC || r.plen > jl - at - sizeof(r))
			break;
		top = r.seq > top ? r.seq : top;
		if (r.type == PC_OPEN && r.plen > 0 && ends_with(j + at + sizeof(r), r.plen, suffix)) {
			if (target != 0 && target != r.file) {
				fprintf(stderr, "sd-powercut: two files end with %s: not modelled\n", suffix);
				return 2;
			}
			target = r.file;
		}
	}
	if ((file_of_seq_write = calloc(top + 1, sizeof(uint64_t))) == NULL) {
		fprintf(stderr, "sd-powercut: out of memory\n");
		return 1;
	}
	return 0;
}

static void list_record(const struct pc_rec *r, const uint8_t *payload)
{
	printf("%8llu %-6s file %u fd %d ref %llu off %lld len %lld flags %u", (unsigned long long)r->seq,
	       type_names[r->type <= PC_CUT ? r->type : 0], r->file, r->fd, (unsigned long long)r->ref,
	       (long long)r->off, (long long)r->len, r->flags);
	if (r->type == PC_OPEN)
		printf(" path %.*s", (int)r->plen, (const char *)payload);
	printf("\n");
}

static int add_write(const struct pc_rec *r, const uint8_t *data)
{
	if (r->len < 0 || (uint64_t)r->len != r->plen || r->off < 0) {
		fprintf(stderr, "sd-powercut: write record %llu is malformed\n", (unsigned long long)r->seq);
		return 2;
	}
	if (nw == cap_w)
		w = xrealloc(w, (cap_w = cap_w * 2 + 256) * sizeof(*w));
	w[nw] = (struct wr){.seq = r->seq,
	                    .off = r->off,
	                    .len = r->len,
	                    .result = -2,
	                    .data = data,
	                    .dsync = (r->flags & PC_F_DSYNC) != 0};
	file_of_seq_write[r->seq] = ++nw;
	return 0;
}

/* Second pass: the target's writes, their completions and its successful syncs. */
static int parse(const uint8_t *j, size_t jl, const struct opts *o, struct stats *st)
{
	struct pc_rec r;
	size_t at = 0;
	unsigned prev_type = 0;

	for (; at + sizeof(r) <= jl; at += sizeof(r) + r.plen) {
		memcpy(&r, j + at, sizeof(r));
		if (r.magic != PC_MAGIC) {
			fprintf(stderr, "sd-powercut: %s: no record at byte %zu\n", o->journal, at);
			return 2;
		}
		if (r.plen > jl - at - sizeof(r))
			break;
		if (o->list)
			list_record(&r, j + at + sizeof(r));
		max_seq = r.seq > max_seq ? r.seq : max_seq;
		if (r.type == PC_CUT && prev_type <= PC_CUT)
			cut_type = type_names[prev_type];
		prev_type = r.type;
		if (r.file != target || target == 0)
			continue;
		switch (r.type) {
		case PC_WRITE:
			if (add_write(&r, j + at + sizeof(r)) != 0)
				return 2;
			break;
		case PC_DONE:
			if (r.ref < r.seq && file_of_seq_write[r.ref] != 0) {
				struct wr *x = &w[file_of_seq_write[r.ref] - 1];
				x->done_seq = r.seq;
				x->result = r.len;
			}
			break;
		case PC_SYNC1:
			if (r.len == 0 && r.ref > last_sync_begin)
				last_sync_begin = r.ref;
			st->syncs += r.len == 0;
			break;
		case PC_TRUNC:
		case PC_FALLOC:
		case PC_MAPW:
			fprintf(stderr, "sd-powercut: the journal has a %s of the file (record %llu): not modelled\n",
			        type_names[r.type], (unsigned long long)r.seq);
			return 2;
		default:
			break;
		}
	}
	partial_tail = at != jl;
	return 0;
}

/* --- the image ------------------------------------------------------------------------ */

static void img_put(int64_t off, const uint8_t *p, int64_t len)
{
	size_t end = (size_t)off + (size_t)len;

	if (len <= 0)
		return;
	if (end > img_cap) {
		size_t cap = img_cap * 2 > end ? img_cap * 2 : end;
		img = xrealloc(img, cap);
		memset(img + img_cap, 0, cap - img_cap);
		img_cap = cap;
	}
	memcpy(img + off, p, (size_t)len);
	if (end > img_len)
		img_len = end;
}

static void img_grow(size_t end)
{
	static const uint8_t zero[1];

	if (end > img_len)
		img_put((int64_t)end - 1, zero, 1); /* the bytes between are zero already */
}

/* The bytes of write x that reached the page cache. */
static int64_t eff_len(const struct wr *x)
{
	if (x->done_seq == 0)
		return x->len; /* running at the cut: any prefix of it may be there */
	return x->result < 0 ? 0 : (x->result < x->len ? x->result : x->len);
}

/* Puts [off, off+len) of non-durable write x, then restores whatever later durable writes
 * cover there: the disk never goes back behind a durable write. */
static void put_piece(const struct wr *x, int64_t off, int64_t len)
{
	img_put(off, x->data + (off - x->off), len);
	for (size_t i = 0; i < nw; i++) {
		const struct wr *d = &w[i];
		if (!d->durable || d->seq < x->seq)
			continue;
		int64_t a = off > d->off ? off : d->off, e1 = off + len, e2 = d->off + eff_len(d);
		int64_t b = e1 < e2 ? e1 : e2;
		if (a < b)
			img_put(a, d->data + (a - d->off), b - a);
	}
}

/* A torn write: a prefix of its sectors, or a random subset of its pages. Returns whether
 * it was torn at all (a one-sector write cannot be). */
static int put_torn(const struct wr *x, int64_t len)
{
	int64_t first = x->off / SECTOR, last = (x->off + len - 1) / SECTOR;
	int64_t nsect = last - first + 1;

	if (nsect < 2) {
		put_piece(x, x->off, len);
		return 0;
	}
	if (rnd() & 1) {
		int64_t keep = (int64_t)(rnd() % (uint64_t)nsect); /* 0 .. nsect-1 sectors */
		int64_t end = (first + keep) * SECTOR;
		if (end > x->off)
			put_piece(x, x->off, end - x->off);
		return 1;
	}
	for (int64_t p = x->off / PAGE * PAGE; p < x->off + len; p += PAGE) {
		int64_t a = p > x->off ? p : x->off, b = p + PAGE < x->off + len ? p + PAGE : x->off + len;
		if (rnd() & 1)
			put_piece(x, a, b - a);
	}
	return 1;
}

static void replay_random(struct stats *st)
{
	size_t *kept = xrealloc(NULL, nw * sizeof(size_t)), nk = 0;
	size_t end = img_len;

	st->p_keep = rnd01();
	for (size_t i = 0; i < nw; i++) {
		int64_t len = eff_len(&w[i]);
		if (w[i].durable || len == 0)
			continue;
		if (rnd01() < st->p_keep) {
			kept[nk++] = i;
			continue;
		}
		st->dropped++;
		st->dropped_bytes += len;
		if ((size_t)(w[i].off + len) > end && rnd01() < 0.1) {
			img_grow((size_t)(w[i].off + len));
			st->zext++;
		}
	}
	for (size_t i = nk; i > 1; i--) { /* Fisher-Yates */
		size_t k = (size_t)(rnd() % i), t = kept[i - 1];
		kept[i - 1] = kept[k];
		kept[k] = t;
	}
	uint64_t hi = 0;
	for (size_t i = 0; i < nk; i++) {
		const struct wr *x = &w[kept[i]];
		st->reordered += x->seq < hi;
		hi = x->seq > hi ? x->seq : hi;
		if (rnd01() < 0.25)
			st->torn += put_torn(x, eff_len(x));
		else
			put_piece(x, x->off, eff_len(x));
	}
	st->kept = (long)nk;
	free(kept);
}

static void replay(const struct opts *o, struct stats *st)
{
	for (size_t i = 0; i < nw; i++) {
		struct wr *x = &w[i];
		int64_t len = eff_len(x);
		if (x->done_seq != 0 && x->result < 0)
			st->failed++;
		st->running += x->done_seq == 0;
		x->durable = !o->ignore_sync && len > 0 && x->done_seq != 0 &&
		             ((x->dsync && x->result > 0) || x->done_seq < last_sync_begin);
		if (x->durable) {
			st->durable++;
			st->durable_bytes += len;
			img_put(x->off, x->data, len);
		} else if (len > 0) {
			st->nondurable++;
		}
	}
	if (strcmp(o->mode, "keep-all") == 0) {
		for (size_t i = 0; i < nw; i++)
			img_put(w[i].off, w[i].data, eff_len(&w[i])); /* in order: the page cache */
		st->kept = st->nondurable;
	} else if (strcmp(o->mode, "drop-all") == 0) {
		for (size_t i = 0; i < nw; i++)
			if (!w[i].durable && eff_len(&w[i]) > 0) {
				st->dropped++;
				st->dropped_bytes += eff_len(&w[i]);
			}
	} else {
		replay_random(st);
	}
}

/* Whether byte i lies in a write still running at the cut (its bytes may or may not be
 * in the file the kill left). */
static int in_running(size_t i)
{
	for (size_t k = 0; k < nw; k++)
		if (w[k].done_seq == 0 && (int64_t)i >= w[k].off && (int64_t)i < w[k].off + w[k].len)
			return 1;
	return 0;
}

/* The keep-all image against the file the kill left: equal, but for the bytes of writes
 * still running at the cut (and a size they alone would have grown). 0 or 3. */
static int control_check(const char *path)
{
	size_t fl, i, n;
	uint8_t *f = read_file(path, &fl);
	int r = 0;

	n = fl < img_len ? fl : img_len;
	for (i = 0; i < n && r == 0; i++)
		if (f[i] != img[i] && !in_running(i))
			r = 3;
	for (i = n; i < (fl > img_len ? fl : img_len) && r == 0; i++)
		if (!in_running(i))
			r = 3;
	if (r != 0)
		printf("sd-powercut: control: the replay differs from %s at byte %zu\n", path, i - 1);
	free(f);
	return r;
}

static int write_out(const char *path)
{
	char tmp[4096];
	int fd, r = 1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return 1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "sd-powercut: %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	for (size_t at = 0; at < img_len;) {
		ssize_t n = write(fd, img + at, img_len - at);
		if (n <= 0)
			goto out;
		at += (size_t)n;
	}
	if (close(fd) == 0 && rename(tmp, path) == 0) /* a test artifact: no fsync */
		return 0;
	fd = -1;
out:
	fprintf(stderr, "sd-powercut: cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: sd-powercut --journal J --base BASE --out OUT --seed N [--mode random|keep-all|drop-all]\n"
	        "                   [--ignore-sync] [--file SUFFIX] [--list]\n");
	return 1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	const char *ig = getenv("SD_POWERCUT_IGNORE_SYNC");

	*o = (struct opts){.mode = "random", .suffix = "/data.mdb", .ignore_sync = ig != NULL && strcmp(ig, "1") == 0};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--ignore-sync") == 0) {
			o->ignore_sync = 1;
			continue;
		}
		if (strcmp(a, "--list") == 0) {
			o->list = 1;
			continue;
		}
		if (v == NULL)
			return usage();
		i++;
		if (strcmp(a, "--journal") == 0)
			o->journal = v;
		else if (strcmp(a, "--base") == 0)
			o->base = v;
		else if (strcmp(a, "--out") == 0)
			o->out = v;
		else if (strcmp(a, "--mode") == 0)
			o->mode = v;
		else if (strcmp(a, "--file") == 0)
			o->suffix = v;
		else if (strcmp(a, "--control") == 0)
			o->control = v;
		else if (strcmp(a, "--seed") == 0)
			o->seed = strtoull(v, NULL, 0);
		else
			return usage();
	}
	if (o->journal == NULL || (!o->list && (o->base == NULL || o->out == NULL)))
		return usage();
	if (o->control != NULL && strcmp(o->mode, "keep-all") != 0)
		return usage();
	if (strcmp(o->mode, "random") != 0 && strcmp(o->mode, "keep-all") != 0 && strcmp(o->mode, "drop-all") != 0)
		return usage();
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct stats st = {0};
	size_t jl, bl;
	uint8_t *j, *b;
	int r;

	if ((r = parse_args(argc, argv, &o)) != 0)
		return r;
	j = read_file(o.journal, &jl);
	if ((r = find_target(j, jl, o.suffix)) != 0 || (r = parse(j, jl, &o, &st)) != 0)
		return r;
	if (o.list)
		return 0;
	b = read_file(o.base, &bl);
	img_put(0, b, (int64_t)bl);
	rng = o.seed;
	replay(&o, &st);
	if ((r = write_out(o.out)) != 0)
		return r;
	if (o.control != NULL && (r = control_check(o.control)) != 0)
		return r;
	printf("sd-powercut: seed=%llu mode=%s%s writes=%zu durable=%ld durable_bytes=%lld syncs=%ld nondurable=%ld "
	       "p_keep=%.2f kept=%ld dropped=%ld dropped_bytes=%lld torn=%ld reordered=%ld zero_extended=%ld "
	       "failed=%ld running=%ld records=%llu cut=%s size=%zu%s\n",
	       (unsigned long long)o.seed, o.mode, o.ignore_sync ? " ignore-sync" : "", nw, st.durable,
	       st.durable_bytes, st.syncs, st.nondurable, st.p_keep, st.kept, st.dropped, st.dropped_bytes, st.torn,
	       st.reordered, st.zext, st.failed, st.running, (unsigned long long)max_seq, cut_type, img_len,
	       partial_tail ? " partial-tail" : "");
	free(j);
	free(b);
	return 0;
}
