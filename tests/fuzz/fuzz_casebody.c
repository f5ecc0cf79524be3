/*
 * fuzz_casebody.c — the case routes' JSON bodies (server/casebody.c): a transition, a
 * written notice, and the whistleblower's status, objection and consent answers, chosen by the
 * first byte. Whatever parses must be what the rules allow: an officer's action, a sealed
 * text within its limits, boxes within theirs, a valid case number.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_step(data + 1, size - 1);
		break;
	case 1:
		fuzz_notice(data + 1, size - 1);
		break;
	case 2:
	case 3:
		fuzz_wb(data + 1, size - 1, data[0] % 5 == 3);
		break;
	default:
		fuzz_wb_consent(data + 1, size - 1);
		break;
	}
	return 0;
}
