/*
 * test_scrub.c — `sealdropd scrub`'s report (server/scrub_report.c): the line per damaged
 * item, the count of damaged cases, the bound on the JSON items, the summary; and the
 * walk (server/scrub.c) on small stores made here: an empty one is clean, and a case
 * record, an upload record or a leaf that is damaged is reported under its case, its
 * upload or the audit log. The chunks, receipts and notices of real filings are
 * tests/e2e/scrub.sh's.
 */
#include "unit.h"
#include "sealdrop/scrub.h"
#include "sealdrop/store.h"

static char tmp[64];

static char *lines_of(FILE *f, char **buf)
{
	fflush(f);
	return *buf;
}

static void test_damage_line_and_cases(void **state)
{
	sd_scrub_report_t rep;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(sd_scrub_report_init(&rep, f), 0);
	sd_scrub_damage(&rep, SD_SCRUB_CASE, "2026-000012", "blob 1 chunk 7", "hash mismatch");
	sd_scrub_damage(&rep, SD_SCRUB_CASE, "2026-000012", "receipt", "it does not verify: %s", "bad");
	sd_scrub_damage(&rep, SD_SCRUB_UPLOAD, "00ff", "blob 0 chunk 0", "missing");
	sd_scrub_damage(&rep, SD_SCRUB_CASE, "2026-000013", "record", "x");
	sd_scrub_damage(&rep, SD_SCRUB_LOG, "audit log", "tree", "y");
	sd_scrub_damage(&rep, SD_SCRUB_CASE, "2026-000014", "summary", "not JSON (byte 0x99 near 'Kim Attorney')");
	assert_string_equal(lines_of(f, &buf), "2026-000012: blob 1 chunk 7: hash mismatch\n"
	                                       "2026-000012: receipt: it does not verify: bad\n"
	                                       "00ff: blob 0 chunk 0: missing\n"
	                                       "2026-000013: record: x\n"
	                                       "audit log: tree: y\n"
	                                       "2026-000014: summary: not JSON (byte 0x99)\n");
	assert_int_equal(rep.damaged, 6);
	assert_int_equal(rep.damaged_cases, 3);
	assert_int_equal(json_array_size(rep.items), 6);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rep.items, 2), "kind")), "upload");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rep.items, 0), "what")), "blob 1 chunk 7");
	sd_scrub_report_clear(&rep);
	fclose(f);
	free(buf);
}

static void test_items_bounded(void **state)
{
	sd_scrub_report_t rep;
	json_t *j;

	(void)state;
	assert_int_equal(sd_scrub_report_init(&rep, NULL), 0);
	for (int i = 0; i < SD_SCRUB_ITEMS_MAX + 25; i++)
		sd_scrub_damage(&rep, SD_SCRUB_CASE, "2026-000001", "chunk", "n %d", i);
	assert_int_equal(json_array_size(rep.items), SD_SCRUB_ITEMS_MAX);
	assert_int_equal(rep.left_off, 25);
	assert_int_equal(rep.damaged, SD_SCRUB_ITEMS_MAX + 25);
	assert_int_equal(rep.damaged_cases, 1);
	j = sd_scrub_report_json(&rep);
	assert_non_null(j);
	assert_false(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(json_integer_value(json_object_get(j, "left_off")), 25);
	json_decref(j);
	sd_scrub_report_clear(&rep);
}

static void test_summary(void **state)
{
	sd_scrub_report_t rep;
	char s[256];

	(void)state;
	assert_int_equal(sd_scrub_report_init(&rep, NULL), 0);
	sd_scrub_summary(&rep, s, sizeof(s));
	assert_string_equal(s, "scrub: 0 cases, 0 chunks (0 bytes), 0 records checked: 0 damaged in 0 cases");
	rep.cases = 1;
	rep.chunks = 1;
	rep.bytes = 42;
	rep.records = 1;
	rep.uploads = 2;
	sd_scrub_damage(&rep, SD_SCRUB_CASE, "2026-000001", "record", "x");
	sd_scrub_summary(&rep, s, sizeof(s));
	assert_string_equal(s, "scrub: 1 case, 1 chunk (42 bytes), 1 record checked: 1 damaged in 1 case "
	                       "(and 2 uploads in progress checked)");
	sd_scrub_summary(&rep, s, 20); /* cut, terminated */
	assert_int_equal(strlen(s), 19);
	sd_scrub_report_clear(&rep);
}

/* --- the walk on small stores ------------------------------------------------------- */

static int dir_setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/sd-scrub-XXXXXX");
	return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int dir_teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmp);
}

static void put(sd_store_t *s, sd_store_db_t db, const uint8_t *k, size_t klen, const char *v)
{
	sd_store_req_t *req = sd_store_req_new();

	assert_non_null(req);
	assert_true(sd_store_req_put(req, db, k, klen, (const uint8_t *)v, strlen(v), 0) >= 0);
	assert_int_equal(sd_store_call(s, req), 0);
	sd_store_req_free(req);
}

static void scrub(sd_store_t *s, sd_scrub_report_t *rep)
{
	sd_seckey_t *k = unit_key_from_byte(SD_KEY_LOG, 7);
	sd_pubkey_t pub;

	sd_seckey_public(k, &pub);
	sd_seckey_free(k);
	assert_int_equal(sd_scrub_report_init(rep, NULL), 0);
	assert_int_equal(sd_scrub_run(s, &pub, NULL, rep), 0);
}

static const char *item(const sd_scrub_report_t *rep, size_t i, const char *field)
{
	return json_string_value(json_object_get(json_array_get(rep->items, i), field));
}

static void test_walk(void **state)
{
	sd_store_t *s = NULL;
	sd_scrub_report_t rep;
	uint8_t id[16] = {1, 2, 3}, leaf_key[8] = {0};

	(void)state;
	assert_int_equal(sd_store_open(tmp, NULL, &s), 0);
	scrub(s, &rep);
	assert_int_equal(rep.damaged, 0);
	assert_int_equal(rep.cases + rep.chunks + rep.records + rep.uploads, 0);
	sd_scrub_report_clear(&rep);

	put(s, SD_STORE_DB_CASES, (const uint8_t *)"2026-000001", 11, "{\"v\":1}");
	put(s, SD_STORE_DB_UPLOADS, id, sizeof(id), "not json");
	scrub(s, &rep);
	assert_int_equal(rep.cases, 1);
	assert_int_equal(rep.damaged, 2);
	assert_int_equal(rep.damaged_cases, 1);
	assert_string_equal(item(&rep, 0, "subject"), "2026-000001");
	assert_string_equal(item(&rep, 0, "what"), "record");
	assert_string_equal(item(&rep, 1, "kind"), "upload");
	assert_string_equal(item(&rep, 1, "subject"), "01020300000000000000000000000000");
	sd_scrub_report_clear(&rep);

	/* A leaf without its node (0, 0), nor a size record: the leaf and the tree. */
	put(s, SD_STORE_DB_LOG_LEAVES, leaf_key, sizeof(leaf_key), "{}");
	scrub(s, &rep);
	assert_int_equal(rep.damaged, 4);
	assert_string_equal(item(&rep, 0, "what"), "tree");
	assert_string_equal(item(&rep, 3, "subject"), "audit log");
	assert_string_equal(item(&rep, 3, "what"), "leaf 0");
	assert_non_null(strstr(item(&rep, 3, "problem"), "missing"));
	sd_scrub_report_clear(&rep);
	sd_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_damage_line_and_cases),
	        cmocka_unit_test(test_items_bounded),
	        cmocka_unit_test(test_summary),
	        cmocka_unit_test_setup_teardown(test_walk, dir_setup, dir_teardown),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
