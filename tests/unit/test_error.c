/*
 * test_error.c — the error detail and its translation: a translator set by the client
 * rewrites the library's formats before the values go in, and the errors' texts; without
 * one (the server) every message stays the English the documents quote.
 */
#include "unit.h"

#include <sysexits.h>

#include "sealdrop/error.h"

/* A stand-in catalogue of two entries; everything else comes back as it went in. */
static const char *to_korean(const char *msgid)
{
	if (strcmp(msgid, "receipt: case %s is not %d") == 0)
		return "영수증: 사건 %s은(는) %d이(가) 아닙니다";
	if (strcmp(msgid, "verification failed") == 0)
		return "검증 실패";
	return msgid;
}

static void test_untranslated_by_default(void **state)
{
	(void)state;
	assert_int_equal(sd_error(SD_ERR_VERIFY, "receipt: case %s is not %d", "2026-000001", 7), SD_ERR_VERIFY);
	assert_string_equal(sd_error_detail(), "receipt: case 2026-000001 is not 7");
	assert_string_equal(sd_strerror(SD_ERR_VERIFY), "verification failed");
	assert_string_equal(sd_strerror(12345), "unknown error");
}

static void test_translator_rewrites_formats_and_texts(void **state)
{
	(void)state;
	sd_error_set_translator(to_korean);
	sd_error(SD_ERR_VERIFY, "receipt: case %s is not %d", "2026-000001", 7);
	assert_string_equal(sd_error_detail(), "영수증: 사건 2026-000001은(는) 7이(가) 아닙니다");
	assert_string_equal(sd_strerror(SD_ERR_VERIFY), "검증 실패");
	/* A message the catalogue lacks is shown in English, not dropped. */
	sd_error(SD_ERR_FORMAT, "header: %zu bytes left over", (size_t)3);
	assert_string_equal(sd_error_detail(), "header: 3 bytes left over");
	assert_string_equal(sd_strerror(SD_ERR_FORMAT), "malformed data");
	sd_error_set_translator(NULL);
	sd_error(SD_ERR_VERIFY, "receipt: case %s is not %d", "2026-000002", 8);
	assert_string_equal(sd_error_detail(), "receipt: case 2026-000002 is not 8");
}

/* A detail that quotes the previous one (callers pass sd_error_detail() as a value) and
 * one longer than the buffer: formatted aside, cut, always terminated. */
static void test_detail_quotes_itself_and_is_bounded(void **state)
{
	char big[3000];

	(void)state;
	sd_error(SD_ERR_IO, "inner %d", 1);
	sd_error(SD_ERR_IO, "outer: %s", sd_error_detail());
	assert_string_equal(sd_error_detail(), "outer: inner 1");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sd_error(SD_ERR_IO, "%s", big);
	assert_true(strlen(sd_error_detail()) < sizeof(big) - 1);
	assert_true(strlen(sd_error_detail()) >= 512);
	sd_error_clear();
	assert_string_equal(sd_error_detail(), "");
}

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(sd_exit_code(SD_ERR_USAGE), EX_USAGE);
	assert_int_equal(sd_exit_code(SD_ERR_VERIFY), EX_DATAERR);
	assert_int_equal(sd_exit_code(SD_ERR_NOENT), EX_NOINPUT);
	assert_int_equal(sd_exit_code(SD_ERR_UNAVAILABLE), EX_UNAVAILABLE);
	assert_int_equal(sd_exit_code(SD_ERR_PROTOCOL), EX_PROTOCOL);
	assert_int_equal(sd_exit_code(SD_ERR_REFUSED), EX_NOPERM);
	assert_int_equal(sd_exit_code(SD_ERR_CONFIG), EX_CONFIG);
	assert_int_equal(sd_exit_code(SD_ERR_IO), EX_IOERR);
	assert_int_equal(sd_exit_code(12345), EX_SOFTWARE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_untranslated_by_default),
	        cmocka_unit_test(test_translator_rewrites_formats_and_texts),
	        cmocka_unit_test(test_detail_quotes_itself_and_is_bounded),
	        cmocka_unit_test(test_exit_codes),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
