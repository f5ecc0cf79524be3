/*
 * fuzz_privsep.c — libFuzzer target for the messages between sealdropd's processes
 * (server/privsep.c): what the key process decodes from a front end that may be
 * compromised, and what the front end decodes from the key process.
 *
 * The first byte picks the decoder (receipt, notice, head, export request; a message
 * header; a refusal; a signed document; the buffered reader, over a stream of messages);
 * the rest is its input. A request that decodes
 * must encode back to exactly the same bytes: the layouts have one encoding per value, so
 * a decoder that accepted two spellings of one request (or read past a field) shows up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "sealdrop/privsep.h"

/* The encoder's result r, with its output in *enc and *enc_len, against the input. */
static void same_bytes(int r, uint8_t **enc, const size_t *enc_len, const uint8_t *data, size_t size)
{
	if (r == SD_ERR_NOMEM)
		return;
	if (r != 0 || *enc_len != size || (size > 0 && !sd_equal(*enc, data, size)))
		abort();
	free(*enc);
}

static void requests(uint8_t which, const uint8_t *data, size_t size)
{
	sd_receipt_t rc;
	sd_notice_t n;
	sd_loghead_t h;
	sd_export_receipt_t er;
	uint8_t *enc = NULL;
	size_t len = 0;
	int r;

	switch (which) {
	case 0:
		if ((r = sd_privsep_decode_receipt(data, size, &rc)) == 0)
			same_bytes(sd_privsep_encode_receipt(&rc, &enc, &len), &enc, &len, data, size);
		else if (r != SD_ERR_PROTOCOL)
			abort();
		break;
	case 1:
		if ((r = sd_privsep_decode_notice(data, size, &n)) == 0) {
			same_bytes(sd_privsep_encode_notice(&n, &enc, &len), &enc, &len, data, size);
			sd_notice_clear(&n);
		} else if (r != SD_ERR_PROTOCOL && r != SD_ERR_NOMEM) {
			abort();
		}
		break;
	case 2:
		if ((r = sd_privsep_decode_head(data, size, &h)) == 0)
			same_bytes(sd_privsep_encode_head(&h, &enc, &len), &enc, &len, data, size);
		else if (r != SD_ERR_PROTOCOL)
			abort();
		break;
	default:
		if ((r = sd_privsep_decode_export(data, size, &er)) == 0)
			same_bytes(sd_privsep_encode_export(&er, &enc, &len), &enc, &len, data, size);
		else if (r != SD_ERR_PROTOCOL)
			abort();
		break;
	}
}

/* A header, a refusal and a signed document: the front end's side. */
static void answers(uint8_t which, const uint8_t *data, size_t size)
{
	uint32_t type;
	size_t len;
	char *json = NULL;
	int code, r;

	if (which == 4 && size >= SD_PRIVSEP_HEADER_BYTES) {
		r = sd_privsep_header_decode(data, &type, &len);
		if (r == 0 && (sd_privsep_max(type) < 0 || len > (size_t)sd_privsep_max(type)))
			abort();
	} else if (which == 5) {
		if (sd_privsep_decode_refused(data, size, &code) == 0 && (size != 4 || code >= 0))
			abort();
	} else if (which == 6 && size >= 4) {
		type = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
		if (sd_privsep_decode_json(type, data + 4, size - 4, &json) == 0 &&
		    (strlen(json) != size - 4 || !sd_equal(json, data + 4, size - 4)))
			abort();
		free(json);
	}
}

/* A stream of messages through the buffered reader (sd_privsep_reader_next), over a real
 * socketpair, with a buffer of 8..263 bytes (the first byte) so that messages larger than
 * it take the other path: every message it returns is within its type's maximum, and it
 * ends with a clean end, a cut message or a protocol error, never anything else. */
static void stream(const uint8_t *data, size_t size)
{
	sd_privsep_reader_t rd;
	const uint8_t *p;
	uint32_t type;
	size_t len, taken = 0;
	int sv[2], r;

	if (size < 1 || size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return;
	if (sd_privsep_write_full(sv[0], data + 1, size - 1) != 0)
		abort();
	close(sv[0]);
	if (sd_privsep_reader_init(&rd, sv[1], 8 + (size_t)data[0]) != 0)
		abort();
	while ((r = sd_privsep_reader_next(&rd, &type, &p, &len)) == 0) {
		taken += SD_PRIVSEP_HEADER_BYTES + len;
		if (sd_privsep_max(type) < 0 || len > (size_t)sd_privsep_max(type) || (p == NULL) != (len == 0) ||
		    taken > size - 1 || (len > 0 && !sd_equal(p, data + 1 + taken - len, len)))
			abort();
	}
	if (r != SD_ERR_UNAVAILABLE && r != SD_ERR_IO && r != SD_ERR_PROTOCOL && r != SD_ERR_NOMEM)
		abort();
	if (r == SD_ERR_UNAVAILABLE && taken != size - 1)
		abort();
	sd_privsep_reader_free(&rd);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 8 < 4)
		requests(data[0] % 8, data + 1, size - 1);
	else if (data[0] % 8 < 7)
		answers(data[0] % 8, data + 1, size - 1);
	else
		stream(data + 1, size - 1);
	return 0;
}
