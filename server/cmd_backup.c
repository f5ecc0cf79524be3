/*
 * cmd_backup.c — `sealdropd backup` and `sealdropd restore` (sealdropd(8), BACKUP AND
 * RESTORE; docs/STORE.md, "Backup and restore"). The work is server/backup.c's; these are
 * the commands around it, shaped like `audit check` (server/cmd_audit.c).
 *
 * backup of a running server goes through the control socket (DESIGN.md: operator commands
 * talk to the running server): {"op":"backup"} makes the front end create
 * DIR/backup/NAME.tmp and hand its descriptor to the store process, which copies the store
 * into it on a thread of its own (server/storeproc.c, backup_main); {"op":"backup_status"},
 * asked until the copy is done, renames it NAME; this command, outside the chroot, then
 * copies it to --out and removes it. With the server stopped, it copies the store itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/config.h"
#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/store.h"
#include "backup.h"
#include "cmd.h"

static const sdd_cmd_t backup_cmd = {
        "backup",
        N_("usage: sealdropd backup --config FILE --out FILE [--json]\n"),
        N_("\nWrites a compacted copy of the server's store (LMDB's data.mdb, from one read\n"
           "transaction) to FILE, and FILE.json beside it: the server's directory, the date and\n"
           "the number of audit log leaves the copy holds. Both are 0600, fsync'd and renamed\n"
           "into place. While the server runs, the copy is made by its store process through the\n"
           "control socket, from one read transaction, as filings go on (in DIR/backup, then moved\n"
           "to FILE); with the server stopped, by this command. One backup runs at a time.\n"
           "Restore with `sealdropd restore --from FILE --dir DIR`.\n"
           "Exit status: 0 written, 66 no store, 74 I/O error, 77 a backup is running already,\n"
           "78 configuration.\n"
           "\n"
           "  --config FILE  the server's configuration (its directory)\n"
           "  --out FILE     the backup file to write (replaced if it exists)\n"
           "  --json         print the result as JSON\n"),
};

static const sdd_cmd_t restore_cmd = {
        "restore",
        N_("usage: sealdropd restore --from FILE --dir DIR [--json]\n"),
        N_("\nInstalls a backup written by `sealdropd backup` as DIR/store/data.mdb. The store\n"
           "it replaces is kept as DIR/store/data.mdb.before-restore-DATE (never deleted). Then\n"
           "it appends a signed epoch statement to the audit log: a `restore` leaf, \"restored to\n"
           "size N\", N being the number of leaves the backup holds. Events after N are lost;\n"
           "clients that saw a longer log report the epoch with a warning instead of a rollback.\n"
           "The head that signs it is published when the server next starts. The server must be\n"
           "stopped: restore refuses while one holds the store.\n"
           "Exit status: 0 restored, 65 the file is not a store, 66 no such file, 74 I/O error,\n"
           "77 a server is running.\n"
           "\n"
           "  --from FILE  the backup (a data.mdb written by `sealdropd backup`)\n"
           "  --dir DIR    the server's directory\n"
           "  --json       print the result as JSON\n"),
};

#define POLL_MS 100 /* between two backup_status requests */

/* DIR/backup, 0700, the server's user's (as DIR/store is): the chrooted front end creates
 * the copy there. */
static int backup_dir(const char *dir)
{
	char path[PATH_MAX], store[PATH_MAX];
	struct stat st;
	int r;

	if ((r = sdd_path_join(path, dir, SD_CONTROL_BACKUP_DIR)) < 0 ||
	    (r = sdd_path_join(store, dir, SD_STORE_SUBDIR)) < 0)
		return r;
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return sd_error(SD_ERR_IO, "cannot create %s: %s", path, strerror(errno));
	if (stat(store, &st) == 0 && chown(path, st.st_uid, st.st_gid) != 0 && errno != EPERM)
		return sd_error(SD_ERR_IO, "cannot give %s to the server's user: %s", path, strerror(errno));
	return 0;
}

/* DIR/backup/NAME to out (0600, fsync'd, renamed), then removed. */
static int backup_move(const char *dir, const char *name, const char *out)
{
	char rel[PATH_MAX], path[PATH_MAX];
	uint8_t buf[1 << 16];
	sd_afile_t *f = NULL;
	size_t got = 0;
	int in, r;

	if (strlen(name) > 128 || strchr(name, '/') != NULL || name[0] == '.')
		return sd_error(SD_ERR_PROTOCOL, "the server named an impossible backup file");
	snprintf(rel, sizeof(rel), "%s/%.128s", SD_CONTROL_BACKUP_DIR, name);
	if ((r = sdd_path_join(path, dir, rel)) < 0)
		return r;
	if ((in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return sd_error(SD_ERR_IO, "%s: %s", path, strerror(errno));
	if ((r = sd_afile_open(&f, out, 0600)) < 0)
		goto out;
	do {
		if ((r = sd_read_full(in, buf, sizeof(buf), &got)) < 0 ||
		    (got > 0 && (r = sd_afile_write(f, buf, got)) < 0))
			goto out;
	} while (got == sizeof(buf));
	r = sd_afile_commit(f, SD_AFILE_REPLACE);
	f = NULL;
	if (r == 0)
		(void)unlink(path);
out:
	sd_afile_abort(f);
	close(in);
	return r;
}

/* Asks the running server: the copy, then its state until done. 0 with *size and name. */
static int backup_online(const sd_config_t *c, uint64_t *size, char name[PATH_MAX])
{
	json_t *reply = NULL;
	const char *state = "running";
	int status, r;

	if ((r = backup_dir(c->dir)) < 0)
		return sdd_fail(backup_cmd.name, r);
	if ((status = sdd_control_call(&backup_cmd, c->dir, json_pack("{s:s}", "op", "backup"), &reply)) != 0)
		return status;
	for (;;) {
		state = json_string_value(json_object_get(reply, "state"));
		*size = (uint64_t)json_integer_value(json_object_get(reply, "log_size"));
		if (state == NULL || strcmp(state, "running") != 0)
			break;
		json_decref(reply);
		reply = NULL;
		usleep(POLL_MS * 1000);
		if ((status = sdd_control_call(&backup_cmd, c->dir, json_pack("{s:s}", "op", "backup_status"),
		                               &reply)) != 0)
			return status;
	}
	snprintf(name, PATH_MAX, "%s",
	         state != NULL && strcmp(state, "done") == 0 ? json_string_value(json_object_get(reply, "file")) : "");
	json_decref(reply);
	if (name[0] == '\0')
		return sdd_fail(backup_cmd.name,
		                sd_error(SD_ERR_PROTOCOL, "the server answered an unexpected backup state"));
	return 0;
}

static int backup_run(const sd_config_t *c, const char *out, bool json)
{
	char path[PATH_MAX];
	sd_store_t *store = NULL;
	struct stat st;
	uint64_t size = 0;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s/data.mdb", c->dir, SD_STORE_SUBDIR) >= (int)sizeof(path))
		return sdd_fail(backup_cmd.name, sd_error(SD_ERR_USAGE, "%s: path too long", c->dir));
	if (stat(path, &st) != 0)
		return sdd_fail(backup_cmd.name, sd_error(SD_ERR_NOENT, "no store at %s", path));
	if ((r = sd_store_open(c->dir, NULL, &store)) == SD_ERR_REFUSED) {
		char name[PATH_MAX];
		int status = backup_online(c, &size, name);
		if (status != 0)
			return status;
		if ((r = backup_move(c->dir, name, out)) == 0)
			r = sd_backup_sidecar(out, c->dir, size);
	} else if (r == 0) {
		r = sd_backup_offline(store, c->dir, out, &size);
	}
	sd_store_close(store);
	if (r < 0)
		return sdd_fail(backup_cmd.name, r);
	if (json)
		return sdd_json_print(json_pack("{s:b, s:s, s:I}", "ok", 1, "out", out, "log_size", (json_int_t)size));
	printf(_("backup written: %s (%llu audit log leaves), %s%s\n"), out, (unsigned long long)size, out,
	       SD_BACKUP_META_SUFFIX);
	return 0;
}

int sdd_cmd_backup(int argc, char **argv)
{
	const char *config = NULL, *out = NULL;
	bool json = false;
	const sdd_opt_t opts[] = {
	        {"config", 'c', .value = &config}, {"out", 'o', .value = &out}, {"json", 'j', .flag = &json}, {NULL}};
	sd_config_t c = {0};
	int status;

	if ((status = sdd_getopt(&backup_cmd, argc, argv, opts)) != 0)
		return status < 0 ? sdd_help(&backup_cmd) : status;
	if (optind < argc)
		return sdd_usage_error(&backup_cmd, "unexpected argument '%s'", argv[optind]);
	if (config == NULL || out == NULL)
		return sdd_usage_error(&backup_cmd, "--config and --out are required");
	if ((status = sdd_config_load(backup_cmd.name, config, &c)) != 0)
		return status;
	status = backup_run(&c, out, json);
	sd_config_free(&c);
	return status;
}

int sdd_cmd_restore(int argc, char **argv)
{
	const char *from = NULL, *dir = NULL;
	char aside[SD_BACKUP_ASIDE_MAX];
	bool json = false;
	const sdd_opt_t opts[] = {
	        {"from", 'f', .value = &from}, {"dir", 'd', .value = &dir}, {"json", 'j', .flag = &json}, {NULL}};
	uint64_t size = 0;
	int r, status;

	if ((status = sdd_getopt(&restore_cmd, argc, argv, opts)) != 0)
		return status < 0 ? sdd_help(&restore_cmd) : status;
	if (optind < argc)
		return sdd_usage_error(&restore_cmd, "unexpected argument '%s'", argv[optind]);
	if (from == NULL || dir == NULL)
		return sdd_usage_error(&restore_cmd, "--from and --dir are required");
	if ((r = sd_backup_restore(dir, from, &size, aside)) < 0)
		return sdd_fail(restore_cmd.name, r);
	if (json)
		return sdd_json_print(
		        json_pack("{s:b, s:I, s:s}", "ok", 1, "restored_size", (json_int_t)size, "kept_aside", aside));
	printf(_("restored %s into %s/store: the audit log holds %llu leaves and the epoch statement "
	         "\"restored to size %llu\" (leaf %llu)\n"),
	       from, dir, (unsigned long long)size, (unsigned long long)size, (unsigned long long)size);
	if (aside[0] != '\0')
		printf(_("the replaced store is kept as %s/store/%s\n"), dir, aside);
	return 0;
}
