/*
 * test_epoch.c — the epoch statement (docs/FORMAT.md, "The epoch statement") and backup
 * and restore (server/backup.c): the leaf's exact bytes and hash, that it parses back,
 * that the store process refuses it from the front end, and a restore on a real store:
 * the log cut back to the backup's N leaves, the epoch as leaf N, the old store kept.
 */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "unit.h"
#include "sealdrop/audit.h"
#include "sealdrop/auditlog.h"
#include "sealdrop/bytes.h"
#include "sealdrop/merkle.h"
#include "sealdrop/storewire.h"
#include "../../server/backup.h"

/* docs/FORMAT.md: restoring a backup of 7 leaves on 2026-11-22 */
static const char epoch7[] =
        "{\"date\":\"2026-11-22\",\"event\":\"restore\",\"number\":7,\"role\":\"operator\",\"v\":1}";
static const char epoch7_hash[] = "9cd7dedede61add39acdd65010393c7b4bcfacea478ffcb1b9826d491c85311e";

static char tmp[64];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/sd-epoch-XXXXXX");
	return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int dir_teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmp);
}

static sd_audit_event_t epoch_event(uint64_t n, sd_date_t d)
{
	sd_audit_event_t ev = {.type = SD_AUDIT_RESTORE, .date = d, .has_number = true, .number = n};

	snprintf(ev.role, sizeof(ev.role), "%s", "operator");
	return ev;
}

static void test_epoch_leaf_bytes(void **state)
{
	sd_audit_event_t ev = epoch_event(7, (sd_date_t){2026, 11, 22}), back;
	uint8_t *leaf = NULL, hash[SD_MERKLE_HASH_BYTES];
	char hex[2 * SD_MERKLE_HASH_BYTES + 1];
	size_t len = 0;

	(void)state;
	assert_int_equal(sd_audit_leaf_encode(&ev, &leaf, &len), 0);
	assert_int_equal(len, strlen(epoch7));
	assert_string_equal((const char *)leaf, epoch7);
	sd_merkle_leaf_hash(leaf, len, hash);
	sd_hex_encode(hash, sizeof(hash), hex);
	assert_string_equal(hex, epoch7_hash);
	assert_int_equal(sd_audit_leaf_parse(leaf, len, &back), 0);
	assert_int_equal(back.type, SD_AUDIT_RESTORE);
	assert_string_equal(sd_audit_type_name(back.type), "restore");
	assert_true(back.has_number);
	assert_int_equal(back.number, 7);
	assert_string_equal(back.role, "operator");
	assert_false(back.has_actor);
	assert_string_equal(back.case_number, "");
	free(leaf);
}

static void test_epoch_leaf_refused(void **state)
{
	static const char *const bad[] = {
	        /* not canonical: another member order, a space */
	        "{\"event\":\"restore\",\"date\":\"2026-11-22\",\"number\":7,\"role\":\"operator\",\"v\":1}",
	        "{\"date\":\"2026-11-22\", \"event\":\"restore\",\"number\":7,\"role\":\"operator\",\"v\":1}",
	        /* a size that is not a number, a negative one, one beyond 2^53 - 1 */
	        "{\"date\":\"2026-11-22\",\"event\":\"restore\",\"number\":\"7\",\"role\":\"operator\",\"v\":1}",
	        "{\"date\":\"2026-11-22\",\"event\":\"restore\",\"number\":-1,\"role\":\"operator\",\"v\":1}",
	        "{\"date\":\"2026-11-22\",\"event\":\"restore\",\"number\":9007199254740992,\"role\":\"operator\","
	        "\"v\":1}",
	        /* an unknown event name */
	        "{\"date\":\"2026-11-22\",\"event\":\"epoch\",\"number\":7,\"role\":\"operator\",\"v\":1}",
	};
	sd_audit_event_t ev;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sd_audit_leaf_parse((const uint8_t *)bad[i], strlen(bad[i]), &ev) != SD_ERR_FORMAT)
			fail_msg("accepted: %s", bad[i]);
}

/* The store process's policy: the front end may append a filing's kind of leaf, never the
 * epoch statement. */
static void test_epoch_policy(void **state)
{
	sd_audit_event_t ev = epoch_event(7, (sd_date_t){2026, 11, 22});
	sd_store_req_t *req = sd_store_req_new();
	uint8_t *leaf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sd_audit_leaf_encode(&ev, &leaf, &len), 0);
	assert_int_equal(sd_store_req_log_append(req, leaf, len, NULL, 0), 0);
	assert_int_equal(sd_storewire_policy_check(req), SD_ERR_REFUSED);
	assert_non_null(strstr(sd_error_detail(), "sealdropd restore"));
	sd_store_req_free(req);
	free(leaf);
	/* nor a log key rotation: only `sealdropd log-key rotate`, offline, appends it */
	ev = (sd_audit_event_t){.type = SD_AUDIT_LOG_KEY_ROTATED, .date = {2026, 11, 22}};
	snprintf(ev.role, sizeof(ev.role), "%s", "operator");
	snprintf(ev.detail, sizeof(ev.detail), "%s", "0011223344556677:8899aabbccddeeff");
	req = sd_store_req_new();
	assert_int_equal(sd_audit_leaf_encode(&ev, &leaf, &len), 0);
	assert_int_equal(sd_store_req_log_append(req, leaf, len, NULL, 0), 0);
	assert_int_equal(sd_storewire_policy_check(req), SD_ERR_REFUSED);
	assert_non_null(strstr(sd_error_detail(), "sealdropd log-key rotate"));
	sd_store_req_free(req);
	free(leaf);
	/* the same request with another event passes */
	ev.type = SD_AUDIT_DIRECTORY_INSTALLED;
	req = sd_store_req_new();
	assert_int_equal(sd_audit_leaf_encode(&ev, &leaf, &len), 0);
	assert_int_equal(sd_store_req_log_append(req, leaf, len, NULL, 0), 0);
	assert_int_equal(sd_storewire_policy_check(req), 0);
	sd_store_req_free(req);
	free(leaf);
}

static void append_leaves(sd_store_t *store, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		sd_audit_event_t ev = {.type = SD_AUDIT_TRANSITION, .date = {2026, 11, 22}};
		sd_store_req_t *req = sd_store_req_new();

		snprintf(ev.role, sizeof(ev.role), "%s", "officer");
		snprintf(ev.detail, sizeof(ev.detail), "step-%u", i);
		assert_int_equal(sd_audit_add(req, &ev), 0);
		assert_int_equal(sd_store_call(store, req), 0);
		sd_store_req_free(req);
	}
}

static uint64_t log_size(sd_store_t *store)
{
	uint64_t size = 0;
	char *head = NULL;

	assert_int_equal(sd_auditlog_read_state(store, &size, &head), 0);
	free(head);
	return size;
}

/* Files of DIR/store named data.mdb.before-restore-*. */
static int kept_aside(void)
{
	char path[128];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/store", tmp);
	assert_non_null(d = opendir(path));
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "data.mdb.before-restore-", 24) == 0;
	closedir(d);
	return n;
}

static void test_backup_restore(void **state)
{
	char backup[128], aside[SD_BACKUP_ASIDE_MAX];
	sd_store_t *store = NULL;
	uint64_t size = 0;

	(void)state;
	snprintf(backup, sizeof(backup), "%s/backup.mdb", tmp);
	assert_int_equal(sd_store_open(tmp, NULL, &store), 0);
	append_leaves(store, 3);
	assert_int_equal(sd_backup_offline(store, tmp, backup, &size), 0);
	assert_int_equal(size, 3);
	append_leaves(store, 2);
	assert_int_equal(log_size(store), 5);
	/* the store is held: restore refuses */
	assert_int_equal(sd_backup_restore(tmp, backup, &size, aside), SD_ERR_REFUSED);
	sd_store_close(store);
	/* a file that is not a store: refused, the old store back in place */
	assert_int_equal(sd_backup_restore(tmp, "/dev/null", &size, aside) < 0, true);
	assert_int_equal(kept_aside(), 0);
	assert_int_equal(sd_store_open(tmp, NULL, &store), 0);
	assert_int_equal(log_size(store), 5);
	sd_store_close(store);
	/* the restore: 3 leaves and the epoch, the old store kept */
	assert_int_equal(sd_backup_restore(tmp, backup, &size, aside), 0);
	assert_int_equal(size, 3);
	assert_int_equal(strncmp(aside, "data.mdb.before-restore-", 24), 0);
	assert_int_equal(kept_aside(), 1);
	assert_int_equal(sd_store_open(tmp, NULL, &store), 0);
	assert_int_equal(log_size(store), 4);
	sd_store_close(store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_epoch_leaf_bytes),
	        cmocka_unit_test(test_epoch_leaf_refused),
	        cmocka_unit_test(test_epoch_policy),
	        cmocka_unit_test_setup_teardown(test_backup_restore, dir_setup, dir_teardown),
	};
	return cmocka_run_group_tests(tests, unit_setup, NULL);
}
