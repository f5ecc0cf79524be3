/*
 * fuzz_envelope.c — the .sdx header parsers (sd_header_parse, and sd_header_parse_known,
 * which must accept whatever the first accepted, under its digest), the chunk layout and
 * chunk check it drives, and the evidence metadata decoder. The first byte selects:
 * even → header (rest of the input), odd → evidence metadata block.
 * In fuzzing builds the header signature and chunk hashes are not checked, so inputs
 * reach the layout rules.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/error.h"
#include "../../crypto/envelope_int.h"
#include "sealdrop/sealdrop.h"

static void fuzz_header(const uint8_t *data, size_t size)
{
	sd_header_t *h = NULL, *k = NULL;
	uint8_t other[SD_HASH_BYTES];

	if (sd_header_parse(data, size, &h) != 0)
		return;
	if (sd_header_parse_known(data, size, h->digest, &k) != 0 || k->raw_len != h->raw_len)
		abort();
	sd_header_free(k);
	/* ...and refuse it under any other digest. */
	memcpy(other, h->digest, sizeof(other));
	other[size % sizeof(other)] ^= 0x80;
	if (sd_header_parse_known(data, size, other, &k) != SD_ERR_VERIFY || k != NULL)
		abort();
	sd_error_clear();
	for (uint32_t b = 0; b < h->n_blobs; b++) {
		uint32_t n = h->blobs[b].n_chunks < 4 ? h->blobs[b].n_chunks : 4;
		for (uint32_t c = 0; c < n; c++) {
			uint64_t want = sd_header_chunk_size(h, b, c);
			/* Check the chunk against bytes of the input itself when it is small. */
			if (want <= size)
				if (sd_header_check_chunk(h, b, c, data, (size_t)want) != 0)
					sd_error_clear();
		}
	}
	(void)sdx_share_ad_len(h);
	sd_header_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sdx_meta_t m;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_header(data + 1, size - 1);
	else if (sdx_meta_decode(data + 1, size - 1, &m) != 0)
		sd_error_clear();
	return 0;
}
