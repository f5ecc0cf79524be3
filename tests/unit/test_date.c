/*
 * test_date.c — calendar dates: strict parsing, leap years, the day arithmetic the case
 * deadlines will rest on, and the YYYYMMDD wire form.
 */
#include "unit.h"

#include "sealdrop/date.h"

static void test_parse_valid_and_invalid(void **state)
{
	(void)state;
	sd_date_t d;
	static const char *const bad[] = {
	        "2023-02-29", "1900-02-29", "2026-13-01", "2026-00-10",  "2026-04-31",  "2026-1-01",
	        "2026-01-1",  "26-01-01",   "2026/01/01", "2026-01-01 ", " 2026-01-01", "2026-01-01x",
	        "",           "1799-12-31", "abcd-ef-gh", "2026-01-0a",
	};

	assert_int_equal(sd_date_parse("2024-02-29", &d), 0);
	assert_int_equal(d.y, 2024);
	assert_int_equal(d.m, 2);
	assert_int_equal(d.d, 29);
	assert_int_equal(sd_date_parse("2000-02-29", &d), 0);
	assert_int_equal(sd_date_parse("1800-01-01", &d), 0);
	assert_int_equal(sd_date_parse("9999-12-31", &d), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sd_date_parse(bad[i], &d) != SD_ERR_FORMAT)
			fail_msg("'%s' was accepted", bad[i]);
}

static void test_format(void **state)
{
	(void)state;
	char text[SD_DATE_TEXT_BYTES];

	sd_date_format((sd_date_t){2026, 3, 7}, text);
	assert_string_equal(text, "2026-03-07");
}

static void test_day_arithmetic(void **state)
{
	(void)state;
	sd_date_t d = {1970, 1, 1};

	assert_int_equal(sd_date_to_days(d), 0);
	assert_int_equal(sd_date_to_days((sd_date_t){2000, 3, 1}), 11017);
	assert_int_equal(sd_date_to_days((sd_date_t){1969, 12, 31}), -1);
	/* Every day from 1800 to 2200 round-trips and is one day after the previous. */
	int64_t prev = sd_date_to_days((sd_date_t){1800, 1, 1}) - 1;
	for (sd_date_t x = {1800, 1, 1}; x.y < 2200; x = sd_date_add_days(x, 1)) {
		int64_t n = sd_date_to_days(x);
		assert_true(sd_date_is_valid(x.y, x.m, x.d));
		assert_true(n == prev + 1);
		sd_date_t back = sd_date_from_days(n);
		assert_true(back.y == x.y && back.m == x.m && back.d == x.d);
		prev = n;
	}
	/* The Decree's 60-day period from a receipt on 2026-11-22 (first day not counted). */
	sd_date_t due = sd_date_add_days((sd_date_t){2026, 11, 22}, 60);
	assert_int_equal(sd_date_to_u32(due), 20270121);
	assert_true(sd_date_cmp(due, (sd_date_t){2027, 1, 20}) > 0);
	assert_int_equal(sd_date_cmp(due, due), 0);
}

static void test_u32_form(void **state)
{
	(void)state;
	sd_date_t d;

	assert_int_equal(sd_date_to_u32((sd_date_t){2026, 11, 22}), 20261122);
	assert_int_equal(sd_date_from_u32(20240229, &d), 0);
	assert_int_equal(d.d, 29);
	assert_int_equal(sd_date_from_u32(20230229, &d), SD_ERR_FORMAT);
	assert_int_equal(sd_date_from_u32(0, &d), SD_ERR_FORMAT);
	assert_int_equal(sd_date_from_u32(UINT32_MAX, &d), SD_ERR_FORMAT);
}

static void test_today_is_plausible(void **state)
{
	(void)state;
	sd_date_t t = sd_date_today();
	assert_true(sd_date_is_valid(t.y, t.m, t.d));
	assert_true(t.y >= 2025 && t.y < 2200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_valid_and_invalid), cmocka_unit_test(test_format),
	        cmocka_unit_test(test_day_arithmetic),          cmocka_unit_test(test_u32_form),
	        cmocka_unit_test(test_today_is_plausible),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
