/*
 * bytes.h — explicit little-endian encoding, a bounds-checked reader and a bounded writer.
 *
 * Wire formats are never read by casting structs onto bytes. A reader is "sticky": after
 * the first short read every further read fails, so a parser checks once at the end
 * (sd_rd_finish()) that nothing failed and nothing was left over.
 */
#ifndef SEALDROP_BYTES_H
#define SEALDROP_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

static inline void sd_store_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void sd_store_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void sd_store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t sd_load_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t sd_load_le32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
static inline uint64_t sd_load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
/* Big-endian: for store keys, which must sort in numeric order. */
static inline void sd_store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}
static inline uint64_t sd_load_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

typedef struct {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool failed;
} sd_rd_t;

static inline sd_rd_t sd_rd_init(const uint8_t *p, size_t len)
{
	return (sd_rd_t){p, len, 0, false};
}
/* Returns a pointer to the next n bytes and advances, or NULL (and fails) if fewer remain. */
const uint8_t *sd_rd_take(sd_rd_t *r, size_t n);
bool sd_rd_copy(sd_rd_t *r, void *out, size_t n);
uint8_t sd_rd_u8(sd_rd_t *r);
uint16_t sd_rd_u16(sd_rd_t *r);
uint32_t sd_rd_u32(sd_rd_t *r);
uint64_t sd_rd_u64(sd_rd_t *r);
static inline size_t sd_rd_left(const sd_rd_t *r)
{
	return r->failed ? 0 : r->len - r->off;
}
/* 0 when every read succeeded and the input was consumed exactly; else SD_ERR_TRUNCATED
 * (short) or SD_ERR_FORMAT (left-over bytes), with a detail naming `what`. */
int sd_rd_finish(const sd_rd_t *r, const char *what);

typedef struct {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool failed;
} sd_wr_t;

static inline sd_wr_t sd_wr_init(uint8_t *p, size_t cap)
{
	return (sd_wr_t){p, cap, 0, false};
}
void sd_wr_bytes(sd_wr_t *w, const void *src, size_t n);
void sd_wr_u8(sd_wr_t *w, uint8_t v);
void sd_wr_u16(sd_wr_t *w, uint16_t v);
void sd_wr_u32(sd_wr_t *w, uint32_t v);
void sd_wr_u64(sd_wr_t *w, uint64_t v);

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). decode
 * reads the code point at s[*i] and advances *i; false on a malformed sequence. */
bool sd_utf8_decode(const char *s, size_t n, size_t *i, uint32_t *cp);
bool sd_utf8_is_valid(const char *s, size_t n);

/* Hex and base64 (standard alphabet, padded) text forms. Return 0 or SD_ERR_FORMAT. */
void sd_hex_encode(const uint8_t *bin, size_t len, char *out /* 2*len+1 */);
int sd_hex_decode(const char *hex, uint8_t *bin, size_t len);
size_t sd_base64_len(size_t binlen); /* including the NUL */
void sd_base64_encode(const uint8_t *bin, size_t len, char *out);
/* Decodes exactly `len` bytes; any other length or a non-canonical encoding is an error. */
int sd_base64_decode_exact(const char *b64, uint8_t *bin, size_t len);

#endif
