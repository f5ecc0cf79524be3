/*
 * test_bytes.c — the bounds-checked reader and writer under every wire parser, and the
 * hex/base64 forms of keys: short reads, left-over bytes, overflowing writes, and
 * non-canonical encodings must all be refused.
 */
#include "unit.h"

#include "sealdrop/bytes.h"

static void test_le_round_trip(void **state)
{
	(void)state;
	uint8_t b[8];

	sd_store_le16(b, 0x1234);
	assert_int_equal(b[0], 0x34);
	assert_int_equal(b[1], 0x12);
	assert_int_equal(sd_load_le16(b), 0x1234);
	sd_store_le32(b, 0xdeadbeef);
	assert_int_equal(b[0], 0xef);
	assert_int_equal(b[3], 0xde);
	assert_int_equal(sd_load_le32(b), 0xdeadbeef);
	sd_store_le64(b, 0x0102030405060708ull);
	assert_int_equal(b[0], 0x08);
	assert_int_equal(b[7], 0x01);
	assert_true(sd_load_le64(b) == 0x0102030405060708ull);
}

static void test_reader_exact_and_short(void **state)
{
	(void)state;
	const uint8_t buf[] = {1, 2, 0, 3, 0, 0, 0, 9};
	sd_rd_t r = sd_rd_init(buf, sizeof(buf));

	assert_int_equal(sd_rd_u8(&r), 1);
	assert_int_equal(sd_rd_u16(&r), 2);
	assert_int_equal(sd_rd_u32(&r), 3);
	assert_int_equal(sd_rd_left(&r), 1);
	assert_int_equal(sd_rd_finish(&r, "thing"), SD_ERR_FORMAT); /* one byte left over */
	assert_non_null(strstr(sd_error_detail(), "trailing"));
	assert_int_equal(sd_rd_u8(&r), 9);
	assert_int_equal(sd_rd_finish(&r, "thing"), 0);
	/* Reading past the end fails, and stays failed (sticky), whatever comes next. */
	assert_int_equal(sd_rd_u32(&r), 0);
	assert_true(r.failed);
	assert_null(sd_rd_take(&r, 0));
	assert_int_equal(sd_rd_finish(&r, "thing"), SD_ERR_TRUNCATED);
	assert_non_null(strstr(sd_error_detail(), "thing is truncated"));
}

static void test_reader_huge_take_does_not_wrap(void **state)
{
	(void)state;
	const uint8_t buf[4] = {0};
	sd_rd_t r = sd_rd_init(buf, sizeof(buf));

	assert_non_null(sd_rd_take(&r, 2));
	assert_null(sd_rd_take(&r, SIZE_MAX)); /* off + n would overflow */
	assert_true(r.failed);
}

static void test_writer_bounds(void **state)
{
	(void)state;
	uint8_t buf[6];
	sd_wr_t w = sd_wr_init(buf, sizeof(buf));

	sd_wr_u16(&w, 0xbeef);
	sd_wr_u32(&w, 7);
	assert_false(w.failed);
	assert_int_equal(w.len, 6);
	sd_wr_u8(&w, 1); /* no room */
	assert_true(w.failed);
	assert_int_equal(w.len, 6);
	sd_wr_u64(&w, 1);
	assert_int_equal(w.len, 6);
}

static void test_hex(void **state)
{
	(void)state;
	const uint8_t bin[3] = {0x00, 0xab, 0xff};
	uint8_t back[3];
	char hex[7];

	sd_hex_encode(bin, 3, hex);
	assert_string_equal(hex, "00abff");
	assert_int_equal(sd_hex_decode("00abff", back, 3), 0);
	assert_memory_equal(back, bin, 3);
	assert_int_equal(sd_hex_decode("00abf", back, 3), SD_ERR_FORMAT);   /* short */
	assert_int_equal(sd_hex_decode("00abff0", back, 3), SD_ERR_FORMAT); /* long */
	assert_int_equal(sd_hex_decode("00abgz", back, 3), SD_ERR_FORMAT);  /* not hex */
}

static void test_base64_canonical_only(void **state)
{
	(void)state;
	const uint8_t bin[4] = {0xde, 0xad, 0xbe, 0xef};
	uint8_t back[4];
	char b64[16];

	assert_int_equal(sd_base64_len(4), 9);
	sd_base64_encode(bin, 4, b64);
	assert_string_equal(b64, "3q2+7w==");
	assert_int_equal(sd_base64_decode_exact("3q2+7w==", back, 4), 0);
	assert_memory_equal(back, bin, 4);
	static const char *const bad[] = {
	        "3q2+7w",    /* padding missing */
	        "3q2+7w=",   /* padding short */
	        "3q2+7x==",  /* non-zero unused bits: another encoding of the same bytes */
	        "3q2-7w==",  /* URL alphabet */
	        "3q2+7w== ", /* trailing space */
	        " 3q2+7w==", /* leading space */
	        "3q2+",      /* too few bytes */
	        "3q2+7w7w",  /* too many bytes */
	        "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sd_base64_decode_exact(bad[i], back, 4) != SD_ERR_FORMAT)
			fail_msg("'%s' was accepted", bad[i]);
}

static void test_utf8(void **state)
{
	(void)state;
	size_t i = 0;
	uint32_t cp;
	static const char *const bad[] = {
	        "\xff",
	        "\xc0\xaf",
	        "\xe0\x80\xaf",
	        "\xed\xa0\x80" /* surrogate */,
	        "\xf4\x90\x80\x80" /* > U+10FFFF */,
	        "\xe2\x82",
	        "\x80",
	};

	assert_true(sd_utf8_is_valid("plain", 5));
	assert_true(sd_utf8_is_valid("\xec\xa6\x9d\xea\xb1\xb0", 6)); /* 증거 */
	assert_true(sd_utf8_decode("\xe2\x82\xac", 3, &i, &cp));
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(i, 3);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		if (sd_utf8_is_valid(bad[k], strlen(bad[k])))
			fail_msg("malformed UTF-8 %zu was accepted", k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_le_round_trip),
	        cmocka_unit_test(test_reader_exact_and_short),
	        cmocka_unit_test(test_reader_huge_take_does_not_wrap),
	        cmocka_unit_test(test_writer_bounds),
	        cmocka_unit_test(test_hex),
	        cmocka_unit_test(test_base64_canonical_only),
	        cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
