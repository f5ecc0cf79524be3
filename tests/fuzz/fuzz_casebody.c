/*
 * fuzz_casebody.c — the case routes' JSON bodies (server/casebody.c): a transition, a
 * written notice, the whistleblower's status, objection and consent answers, and an
 * unseal's scope, chosen by the first byte modulo 6 (seeds: 0 step, 1 notice, 2 status,
 * 3 objection, 4 consent, 5 unseal). Whatever parses must be what the rules allow: an
 * officer's action, a sealed text within its limits, boxes within theirs, a valid case
 * number, a scope that reads back as itself.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealdrop/casebody.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealbox.h"

static void fuzz_step(const uint8_t *data, size_t size)
{
	sd_case_step_t step = {0};
	uint8_t *text = NULL;
	size_t len = 0;

	if (sd_casebody_step(data, size, NULL, &step, &text, &len) == 0) {
		if (!sd_case_action_is_officers(step.action) || step.agency[0] != '\0' ||
		    step.has_text != (text != NULL) ||
		    (text != NULL && (len <= SD_SEALBOX_OVERHEAD || len > SD_CASE_TEXT_MAX + SD_SEALBOX_OVERHEAD)))
			abort();
	} else if (text != NULL) {
		abort(); /* nothing is left allocated after a refusal */
	}
	free(text);
}

static void fuzz_notice(const uint8_t *data, size_t size)
{
	sd_notice_t n = {0};

	if (sd_casebody_notice(data, size, &n) == 0 &&
	    (n.to_whistleblower == NULL || n.to_commission == NULL || n.commission_len > SD_NOTICE_BOX_MAX ||
	     n.whistleblower_len <= SD_SEALBOX_OVERHEAD))
		abort();
	sd_notice_clear(&n);
}

static void fuzz_wb(const uint8_t *data, size_t size, bool objection)
{
	sd_wb_body_t b;
	int r = sd_casebody_wb(data, size, objection, &b);

	if (r == 0 && objection &&
	    (b.text == NULL || b.text_len <= SD_SEALBOX_OVERHEAD ||
	     b.text_len > SD_CASE_TEXT_MAX + SD_SEALBOX_OVERHEAD ||
	     (b.case_number[0] != '\0' && !sd_case_number_is_valid(b.case_number))))
		abort();
	if (r == 0 && !objection && (b.text != NULL || b.case_number[0] != '\0'))
		abort();
	if (r < 0 && b.text != NULL)
		abort(); /* nothing is left allocated after a refusal */
	free(b.text);
}

static void fuzz_wb_consent(const uint8_t *data, size_t size)
{
	sd_session_proof_t p;
	sd_consent_file_t f;

	if (sd_casebody_wb_consent(data, size, &p, &f) == 0 && f.kind != SD_CONSENT_FILE_CONSENT &&
	    f.kind != SD_CONSENT_FILE_REVOCATION)
		abort();
}

static void fuzz_unseal(const uint8_t *data, size_t size)
{
	char scope[SD_CONSENT_SCOPE_MAX], again[SD_CONSENT_SCOPE_MAX];
	sd_consent_t c = {0};

	if (sd_casebody_unseal(data, size, scope) < 0) {
		if (scope[0] != '\0')
			abort(); /* nothing is given after a refusal */
		return;
	}
	if (memchr(scope, '\0', sizeof(scope)) == NULL || sd_consent_scope_set(&c, scope) < 0)
		abort();
	sd_consent_scope_text(&c, again);
	if (strcmp(again, scope) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 6) {
	case 0:
		fuzz_step(data + 1, size - 1);
		break;
	case 1:
		fuzz_notice(data + 1, size - 1);
		break;
	case 2:
	case 3:
		fuzz_wb(data + 1, size - 1, data[0] % 6 == 3);
		break;
	case 4:
		fuzz_wb_consent(data + 1, size - 1);
		break;
	default:
		fuzz_unseal(data + 1, size - 1);
		break;
	}
	return 0;
}
