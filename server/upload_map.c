/*
 * upload_map.c — the filing modules' hash table (server/upload_int.h): fixed-size byte
 * keys, open addressing with linear probing, at most half full, deletion by shifting
 * the following run back (no tombstones, so lookups never slow down with churn).
 *
 * The keys are upload ids (chosen by the server: a sequence number, then random bytes),
 * certificate fingerprints (SHA-256) and header digests (BLAKE2b-256). The hash is their
 * first eight bytes through splitmix64's finalizer (slot_of): the digests are uniform
 * already, and the upload ids' sequence numbers, close together, come out spread over the
 * slots instead of filling runs. A client could grind header digests to collide, but
 * only in the table of commits under way, which holds at most one entry per request.
 */
#include <stdlib.h>
#include <string.h>

#include "sealdrop/sealdrop.h"
#include "upload_int.h"

#define MAP_MIN_CAP 16

static size_t slot_of(const upload_map_t *m, const uint8_t *key)
{
	uint64_t h = 0;

	for (size_t i = 0; i < 8 && i < m->key_len; i++)
		h = h << 8 | key[i];
	h ^= h >> 30; /* splitmix64's finalizer: every input bit reaches the low bits */
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return (size_t)h & (m->cap - 1);
}

static bool key_is(const upload_map_t *m, const upload_slot_t *s, const uint8_t *key)
{
	return s->used && sd_equal(s->key, key, m->key_len);
}

void upload_map_init(upload_map_t *m, size_t key_len)
{
	memset(m, 0, sizeof(*m));
	m->key_len = key_len <= UPLOAD_MAP_KEY_MAX ? key_len : UPLOAD_MAP_KEY_MAX;
}

void upload_map_free(upload_map_t *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

upload_slot_t *upload_map_find(const upload_map_t *m, const uint8_t *key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slots[i].used)
			return NULL;
		if (key_is(m, &m->slots[i], key))
			return &m->slots[i];
	}
}

static int grow(upload_map_t *m)
{
	upload_map_t bigger = *m;

	bigger.cap = m->cap ? m->cap * 2 : MAP_MIN_CAP;
	bigger.n = 0;
	if ((bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots))) == NULL)
		return SD_ERR_NOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;
		if (!m->slots[i].used)
			continue;
		for (j = slot_of(&bigger, m->slots[i].key); bigger.slots[j].used; j = (j + 1) & (bigger.cap - 1))
			;
		bigger.slots[j] = m->slots[i];
		bigger.n++;
	}
	free(m->slots);
	*m = bigger;
	return 0;
}

upload_slot_t *upload_map_add(upload_map_t *m, const uint8_t *key)
{
	upload_slot_t *s = upload_map_find(m, key);
	size_t i;

	if (s != NULL)
		return s;
	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return NULL;
	for (i = slot_of(m, key); m->slots[i].used; i = (i + 1) & (m->cap - 1))
		;
	s = &m->slots[i];
	memset(s, 0, sizeof(*s));
	s->used = true;
	memcpy(s->key, key, m->key_len);
	m->n++;
	return s;
}

/* Whether slot j, holding a key whose home is h, may move into the hole at i. */
static bool may_fill(size_t i, size_t h, size_t j)
{
	/* It may, unless its home lies cyclically in (i, j]. */
	return i <= j ? (h <= i || h > j) : (h <= i && h > j);
}

void upload_map_remove(upload_map_t *m, const uint8_t *key)
{
	upload_slot_t *s = upload_map_find(m, key);
	size_t i, j;

	if (s == NULL)
		return;
	i = (size_t)(s - m->slots);
	for (j = (i + 1) & (m->cap - 1); m->slots[j].used; j = (j + 1) & (m->cap - 1)) {
		if (may_fill(i, slot_of(m, m->slots[j].key), j)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	memset(&m->slots[i], 0, sizeof(m->slots[i]));
	m->n--;
}
