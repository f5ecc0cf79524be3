/*
 * bytes.c — the bounds-checked reader and writer every wire parser is built on, and the
 * hex/base64 text forms of keys and digests. See include/sealdrop/bytes.h.
 */
#include <string.h>
#include <sodium.h>

#include "sealdrop/bytes.h"
#include "sealdrop/error.h"

const uint8_t *sd_rd_take(sd_rd_t *r, size_t n)
{
	const uint8_t *p;

	if (r->failed || n > r->len - r->off) {
		r->failed = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

bool sd_rd_copy(sd_rd_t *r, void *out, size_t n)
{
	const uint8_t *p = sd_rd_take(r, n);

	if (p == NULL)
		return false;
	if (n > 0)
		memcpy(out, p, n);
	return true;
}

uint8_t sd_rd_u8(sd_rd_t *r)
{
	const uint8_t *p = sd_rd_take(r, 1);
	return p ? p[0] : 0;
}

uint16_t sd_rd_u16(sd_rd_t *r)
{
	const uint8_t *p = sd_rd_take(r, 2);
	return p ? sd_load_le16(p) : 0;
}

uint32_t sd_rd_u32(sd_rd_t *r)
{
	const uint8_t *p = sd_rd_take(r, 4);
	return p ? sd_load_le32(p) : 0;
}

uint64_t sd_rd_u64(sd_rd_t *r)
{
	const uint8_t *p = sd_rd_take(r, 8);
	return p ? sd_load_le64(p) : 0;
}

int sd_rd_finish(const sd_rd_t *r, const char *what)
{
	if (r->failed)
		return sd_error(SD_ERR_TRUNCATED, "%s is truncated", what);
	if (r->off != r->len)
		return sd_error(SD_ERR_FORMAT, "%s has %zu unexpected trailing bytes", what, r->len - r->off);
	return 0;
}

void sd_wr_bytes(sd_wr_t *w, const void *src, size_t n)
{
	if (w->failed || n > w->cap - w->len) {
		w->failed = true;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

void sd_wr_u8(sd_wr_t *w, uint8_t v)
{
	sd_wr_bytes(w, &v, 1);
}

void sd_wr_u16(sd_wr_t *w, uint16_t v)
{
	uint8_t b[2];
	sd_store_le16(b, v);
	sd_wr_bytes(w, b, sizeof(b));
}

void sd_wr_u32(sd_wr_t *w, uint32_t v)
{
	uint8_t b[4];
	sd_store_le32(b, v);
	sd_wr_bytes(w, b, sizeof(b));
}

void sd_wr_u64(sd_wr_t *w, uint64_t v)
{
	uint8_t b[8];
	sd_store_le64(b, v);
	sd_wr_bytes(w, b, sizeof(b));
}

void sd_hex_encode(const uint8_t *bin, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, bin, len);
}

int sd_hex_decode(const char *hex, uint8_t *bin, size_t len)
{
	size_t got = 0;
	const char *end = NULL;

	if (strlen(hex) != 2 * len || sodium_hex2bin(bin, len, hex, 2 * len, NULL, &got, &end) != 0 || got != len)
		return sd_error(SD_ERR_FORMAT, "expected %zu hexadecimal digits", 2 * len);
	return 0;
}

size_t sd_base64_len(size_t binlen)
{
	return sodium_base64_ENCODED_LEN(binlen, sodium_base64_VARIANT_ORIGINAL);
}

void sd_base64_encode(const uint8_t *bin, size_t len, char *out)
{
	sodium_bin2base64(out, sd_base64_len(len), bin, len, sodium_base64_VARIANT_ORIGINAL);
}

int sd_base64_decode_exact(const char *b64, uint8_t *bin, size_t len)
{
	size_t got = 0;
	const char *end = NULL;
	size_t n = strlen(b64);

	/* Canonical only: the exact encoded length, and nothing ignored or left over. */
	if (n + 1 != sd_base64_len(len) ||
	    sodium_base642bin(bin, len, b64, n, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 || got != len ||
	    end != b64 + n)
		return sd_error(SD_ERR_FORMAT, "expected base64 of %zu bytes", len);
	/* Reject encodings with non-zero unused bits: re-encoding must give the same text. */
	char again[n + 1];
	sd_base64_encode(bin, len, again);
	if (strcmp(again, b64) != 0)
		return sd_error(SD_ERR_FORMAT, "non-canonical base64");
	return 0;
}

bool sd_utf8_decode(const char *str, size_t n, size_t *i, uint32_t *out)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned c = s[*i], need, min;
	uint32_t cp;

	if (c < 0x80) {
		*out = c;
		(*i)++;
		return true;
	}
	if (c >= 0xc2 && c <= 0xdf)
		need = 1, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3, min = 0x10000, cp = c & 0x07;
	else
		return false;
	if (n - *i <= need)
		return false;
	for (unsigned j = 1; j <= need; j++) {
		if ((s[*i + j] & 0xc0) != 0x80)
			return false;
		cp = (cp << 6) | (s[*i + j] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	*i += need + 1;
	*out = cp;
	return true;
}

bool sd_utf8_is_valid(const char *s, size_t n)
{
	uint32_t cp;

	for (size_t i = 0; i < n;)
		if (!sd_utf8_decode(s, n, &i, &cp))
			return false;
	return true;
}
