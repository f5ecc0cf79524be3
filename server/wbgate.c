/*
 * wbgate.c — the gate before the whistleblower's routes (include/sealdrop/wbgate.h):
 * stateless challenges, the proof of work, one token bucket for all anonymous answers
 * together, and the set of challenges already answered. Start at sd_wbgate_admit().
 *
 * The answered set keeps only each challenge's 16-byte tag, in two generations of
 * SD_WBGATE_CHALLENGE_TTL seconds each: a tag goes into the current one, the current one
 * becomes the previous one when its time is up, and the previous one is dropped. A tag is
 * thus remembered at least one TTL after its answer, longer than its challenge could
 * still be good for. Each generation is an open-addressing table (linear probing, no
 * deletions: it is emptied whole), at most 3/4 full.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/wbgate.h"

#define TAG_OFFSET 16 /* a challenge's tag: its last 16 bytes (crypto/session.c) */
#define TAG_BYTES  16
#define SLOTS_MIN  1024u

typedef struct {
	uint8_t (*tags)[TAG_BYTES]; /* all-zero: an empty slot */
	size_t slots;               /* a power of two */
	size_t used;
} tag_set_t;

struct sd_wbgate {
	uint8_t *key; /* the challenge key, secret memory */
	unsigned bits;
	uint32_t rate_per_minute;
	double tokens; /* the bucket: up to rate_per_minute, refilled rate_per_minute a minute */
	uint64_t refilled_ms;
	tag_set_t gen[2]; /* [0] current, [1] previous */
	uint64_t gen_start_ms;
	bool started;
};

static bool tag_is_empty(const uint8_t t[TAG_BYTES])
{
	uint8_t acc = 0;

	for (size_t i = 0; i < TAG_BYTES; i++)
		acc |= t[i];
	return acc == 0;
}

/* The tag's first slot: its bytes are a MAC's, so any of them spread evenly. */
static size_t tag_slot(const tag_set_t *s, const uint8_t t[TAG_BYTES])
{
	return (size_t)sd_load_le64(t) & (s->slots - 1);
}

static bool set_has(const tag_set_t *s, const uint8_t t[TAG_BYTES])
{
	for (size_t i = tag_slot(s, t), n = 0; n < s->slots; i = (i + 1) & (s->slots - 1), n++) {
		if (tag_is_empty(s->tags[i]))
			return false;
		if (sd_equal(s->tags[i], t, TAG_BYTES))
			return true;
	}
	return false;
}

/* false when the set is 3/4 full. An all-zero tag (one in 2^128) is never stored: its
 * challenge is refused as used instead (set_has cannot tell it from an empty slot). */
static bool set_add(tag_set_t *s, const uint8_t t[TAG_BYTES])
{
	size_t i = tag_slot(s, t);

	if (4 * (s->used + 1) > 3 * s->slots)
		return false;
	while (!tag_is_empty(s->tags[i]))
		i = (i + 1) & (s->slots - 1);
	memcpy(s->tags[i], t, TAG_BYTES);
	s->used++;
	return true;
}

static void set_clear(tag_set_t *s)
{
	memset(s->tags, 0, s->slots * TAG_BYTES);
	s->used = 0;
}

/* Enough slots for every answer one generation's tokens can admit, within the bounds. */
static size_t slots_for(uint32_t rate_per_minute)
{
	uint64_t want = (uint64_t)rate_per_minute * (SD_WBGATE_CHALLENGE_TTL / 60 + 1) * 2;
	size_t slots = SLOTS_MIN;

	while (slots < want && slots < (size_t)SD_WBGATE_USED_MAX * 2)
		slots *= 2;
	return slots;
}

int sd_wbgate_new(unsigned bits, uint32_t rate_per_minute, sd_wbgate_t **out)
{
	sd_wbgate_t *g;

	*out = NULL;
	if (bits > SD_POW_BITS_MAX || rate_per_minute == 0)
		return sd_error(SD_ERR_USAGE, "wbgate: pow bits 0..%d and a rate of at least 1 a minute",
		                SD_POW_BITS_MAX);
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return SD_ERR_NOMEM;
	g->bits = bits;
	g->rate_per_minute = rate_per_minute;
	g->tokens = rate_per_minute;
	for (int i = 0; i < 2; i++) {
		g->gen[i].slots = slots_for(rate_per_minute);
		g->gen[i].tags = calloc(g->gen[i].slots, TAG_BYTES);
	}
	if ((g->key = sd_session_challenge_key_new()) == NULL || g->gen[0].tags == NULL || g->gen[1].tags == NULL) {
		sd_wbgate_free(g);
		return SD_ERR_NOMEM;
	}
	*out = g;
	return 0;
}

void sd_wbgate_free(sd_wbgate_t *g)
{
	if (g == NULL)
		return;
	sd_secret_free(g->key);
	free(g->gen[0].tags);
	free(g->gen[1].tags);
	free(g);
}

unsigned sd_wbgate_bits(const sd_wbgate_t *g)
{
	return g->bits;
}

void sd_wbgate_challenge(sd_wbgate_t *g, uint64_t now_ms, uint8_t out[SD_SESSION_NONCE_BYTES])
{
	sd_session_challenge_new(g->key, now_ms / 1000 + SD_WBGATE_CHALLENGE_TTL, out);
}

/* Moves the generations on to now_ms. */
static void gen_advance(sd_wbgate_t *g, uint64_t now_ms)
{
	const uint64_t ttl_ms = (uint64_t)SD_WBGATE_CHALLENGE_TTL * 1000;
	tag_set_t t;

	if (!g->started) {
		g->started = true;
		g->gen_start_ms = now_ms;
		return;
	}
	if (now_ms < g->gen_start_ms + ttl_ms)
		return;
	if (now_ms >= g->gen_start_ms + 2 * ttl_ms)
		set_clear(&g->gen[0]); /* both are older than a TTL */
	set_clear(&g->gen[1]);
	t = g->gen[1];
	g->gen[1] = g->gen[0];
	g->gen[0] = t;
	g->gen_start_ms = now_ms;
}

/* Takes one token; false (and *retry_after) when the bucket is empty. */
static bool bucket_take(sd_wbgate_t *g, uint64_t now_ms, unsigned *retry_after)
{
	double per_ms = g->rate_per_minute / 60000.0;

	if (now_ms > g->refilled_ms) {
		g->tokens += (double)(now_ms - g->refilled_ms) * per_ms;
		if (g->tokens > g->rate_per_minute)
			g->tokens = g->rate_per_minute;
	}
	g->refilled_ms = now_ms;
	if (g->tokens >= 1.0) {
		g->tokens -= 1.0;
		return true;
	}
	*retry_after = (unsigned)((1.0 - g->tokens) / per_ms / 1000.0) + 1;
	return false;
}

int sd_wbgate_admit(sd_wbgate_t *g, const sd_session_proof_t *p, uint64_t now_ms, unsigned *retry_after)
{
	const uint8_t *tag = p->server_nonce + TAG_OFFSET;
	int r;

	*retry_after = 0;
	if (!sd_pow_check(p->server_nonce, p->pow, g->bits))
		return sd_error(SD_ERR_VERIFY, "the proof of work has %u leading zero bits, %u are needed",
		                sd_pow_zero_bits(p->server_nonce, p->pow), g->bits);
	if ((r = sd_session_challenge_check(g->key, p->server_nonce, now_ms / 1000)) < 0)
		return r;
	gen_advance(g, now_ms);
	if (tag_is_empty(tag) || set_has(&g->gen[0], tag) || set_has(&g->gen[1], tag))
		return sd_error(SD_ERR_VERIFY, "the challenge was already answered: ask for a new one");
	if (!bucket_take(g, now_ms, retry_after))
		return sd_error(SD_ERR_UNAVAILABLE, "the whistleblower routes are busy: retry in %u seconds",
		                *retry_after);
	if (!set_add(&g->gen[0], tag)) {
		*retry_after = SD_WBGATE_CHALLENGE_TTL;
		return sd_error(SD_ERR_UNAVAILABLE, "the whistleblower routes are busy: retry later");
	}
	return 0;
}
