/*
 * fuzz_control.c — libFuzzer target for the control socket's requests (docs/API.md,
 * "Control socket"): sd_control_parse_request() on arbitrary bytes. What it accepts
 * must hold exactly the fields its op needs, each within its limit, and its error
 * codes must be the documented ones.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/directory.h"
#include "../../server/control_int.h"

/* No name, CSR, directory, box key or fingerprint: the ops that name no account. */
static bool carries_nothing(const sd_control_req_t *q, size_t name_len)
{
	return name_len == 0 && q->csr == NULL && q->directory == NULL && !q->has_box_key && !q->has_fingerprint;
}

static void check(const sd_control_req_t *q)
{
	size_t name_len = strnlen(q->name, sizeof(q->name));

	if (q->json == NULL || name_len == sizeof(q->name))
		abort();
	switch (q->op) {
	case SD_CONTROL_ENROLL:
		if (name_len == 0 || sd_role_name(q->role) == NULL || q->directory != NULL)
			abort();
		if (q->csr != NULL && (q->csr_len == 0 || q->csr_len > SD_CA_CSR_MAX_BYTES))
			abort();
		break;
	case SD_CONTROL_DISABLE:
		if (name_len == 0 || q->csr != NULL || q->directory != NULL || q->has_box_key)
			abort();
		break;
	case SD_CONTROL_DIRECTORY_INSTALL:
		if (name_len != 0 || q->directory == NULL || q->directory_len == 0 ||
		    q->directory_len > SD_DIRECTORY_MAX_BYTES)
			abort();
		break;
	case SD_CONTROL_STATUS:
	case SD_CONTROL_PUBLISH:
		if (!carries_nothing(q, name_len) || q->expect_head != NULL || q->dry_run)
			abort();
		break;
	case SD_CONTROL_AUDIT_CHECK:
		if (!carries_nothing(q, name_len) || q->dry_run)
			abort();
		break;
	case SD_CONTROL_RETENTION:
		if (!carries_nothing(q, name_len) || q->expect_head != NULL)
			abort();
		break;
	case SD_CONTROL_RENEW:
		if (name_len == 0 || q->directory != NULL || q->has_box_key || q->has_fingerprint || q->dry_run)
			abort();
		if (q->csr != NULL && (q->csr_len == 0 || q->csr_len > SD_CA_CSR_MAX_BYTES))
			abort();
		break;
	case SD_CONTROL_REVOKE:
		if (!q->has_fingerprint || name_len != 0 || q->csr != NULL || q->directory != NULL || q->has_box_key ||
		    q->expect_head != NULL || q->dry_run)
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sd_control_req_t q;
	int r = sd_control_parse_request(data, size, &q);

	if (r == SD_ERR_NOMEM)
		return 0;
	if (r != 0) {
		if ((r != SD_ERR_FORMAT && r != SD_ERR_INVALID && r != SD_ERR_TOOBIG) || q.json != NULL)
			abort();
		/* Every error becomes a reply word and back into a code the operator sees. */
		if (sd_control_error_code(sd_control_error_word(r)) == 0)
			abort();
		return 0;
	}
	check(&q);
	sd_control_req_clear(&q);
	return 0;
}
