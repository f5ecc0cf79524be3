/*
 * cmd_logkey.c — `sealdropd log-key new` and `sealdropd log-key rotate` (docs/OPERATIONS.md,
 * "Rotate the log key"): the command lines around server/logkey.c, which holds the steps
 * and says why they come in that order.
 *
 * new makes the next key beside the current one (the server may run); the root key holder
 * then signs a directory naming it as keys.log and the current key under
 * keys.log_retired; rotate, with the server stopped, logs the rotation, installs that
 * directory and puts the new key in place.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/sealdrop.h"
#include "cmd.h"
#include "logkey.h"

static const sdd_cmd_t logkey_cmd = {
        "log-key",
        N_("usage: sealdropd log-key new --dir DIR [--out FILE.pub] [--json]\n"
           "       sealdropd log-key rotate --dir DIR --directory FILE [--json]\n"),
        N_("\n"
           "  new     generate the next log key as DIR/log.key.next (server may run)\n"
           "  rotate  log the rotation, install FILE and make DIR/log.key.next the log key\n"
           "          (server stopped)\n"),
};

static const sdd_cmd_t new_cmd = {
        "log-key new",
        N_("usage: sealdropd log-key new --dir DIR [--out FILE.pub] [--json]\n"),
        N_("\n"
           "Generates the next log signing key as DIR/log.key.next (mode 0600) and writes its public\n"
           "half to FILE.pub (default DIR/log.key.next.pub), for the root key holder to sign a\n"
           "directory with it as --log and the current DIR/log.key.pub as --log-retired. The\n"
           "server may be running; it keeps signing with DIR/log.key until 'log-key rotate'.\n"
           "Exit 73 when DIR/log.key.next exists already.\n"
           "\n"
           "  --dir DIR       the server's directory\n"
           "  --out FILE.pub  where to write the public key\n"
           "  --json          print the result as JSON\n"),
};

static const sdd_cmd_t rotate_cmd = {
        "log-key rotate",
        N_("usage: sealdropd log-key rotate --dir DIR --directory FILE [--json]\n"),
        N_("\n"
           "With the server stopped: checks FILE against the pinned root (the signer of\n"
           "DIR/directory.json), requires a higher version, DIR/log.key.next's public key as its\n"
           "log key and the current log key (and every key retired before) under log_retired;\n"
           "then appends the audit leaves log-key-rotated (OLDID:NEWID) and directory-installed,\n"
           "signs the handover head with the old key, installs FILE as DIR/directory.json, makes\n"
           "DIR/log.key.next the log key and overwrites the old one. Interrupted, it can be run\n"
           "again with the same FILE and finishes the job. Exit 77 while the server runs.\n"
           "\n"
           "  --dir DIR         the server's directory\n"
           "  --directory FILE  the new root-signed directory\n"
           "  --json            print the result as JSON\n"),
};

static int logkey_new(int argc, char **argv)
{
	const char *dir = NULL, *out = NULL;
	char id[SD_KEY_ID_HEX_BYTES], pubpath[PATH_MAX];
	bool json = false;
	const sdd_opt_t opts[] = {
	        {"dir", 'd', .value = &dir}, {"out", 'o', .value = &out}, {"json", 'j', .flag = &json}, {NULL}};
	sd_pubkey_t pub;
	int r, status;

	if ((status = sdd_getopt(&new_cmd, argc, argv, opts)) != 0)
		return status < 0 ? sdd_help(&new_cmd) : status;
	if (optind < argc)
		return sdd_usage_error(&new_cmd, "unexpected argument '%s'", argv[optind]);
	if (dir == NULL)
		return sdd_usage_error(&new_cmd, "--dir is required");
	if ((r = sd_logkey_new(dir, out, &pub)) < 0)
		return sdd_fail(new_cmd.name, r);
	sd_key_id_hex(pub.id, id);
	if (out != NULL)
		snprintf(pubpath, sizeof(pubpath), "%s", out);
	else
		snprintf(pubpath, sizeof(pubpath), "%s/%s", dir, SD_LOGKEY_NEXT_PUB_FILE);
	if (json)
		return sdd_json_print(json_pack("{s:b, s:s, s:s}", "ok", 1, "next_key_id", id, "public", pubpath));
	printf(_("next log key %s written to %s/%s, its public key to %s\n"
	         "next: have the root key holder sign a directory with --log %s --log-retired %s/log.key.pub,\n"
	         "then stop the server and run: sealdropd log-key rotate --dir %s --directory FILE\n"),
	       id, dir, SD_LOGKEY_NEXT_FILE, pubpath, pubpath, dir, dir);
	return 0;
}

static int logkey_rotate(int argc, char **argv)
{
	const char *dir = NULL, *file = NULL;
	char old_id[SD_KEY_ID_HEX_BYTES], new_id[SD_KEY_ID_HEX_BYTES];
	bool json = false;
	const sdd_opt_t opts[] = {
	        {"dir", 'd', .value = &dir}, {"directory", 'f', .value = &file}, {"json", 'j', .flag = &json}, {NULL}};
	sd_logkey_rotation_t rot;
	int r, status;

	if ((status = sdd_getopt(&rotate_cmd, argc, argv, opts)) != 0)
		return status < 0 ? sdd_help(&rotate_cmd) : status;
	if (optind < argc)
		return sdd_usage_error(&rotate_cmd, "unexpected argument '%s'", argv[optind]);
	if (dir == NULL || file == NULL)
		return sdd_usage_error(&rotate_cmd, "--dir and --directory are required");
	if ((r = sd_logkey_rotate(dir, file, &rot)) < 0)
		return sdd_fail(rotate_cmd.name, r);
	sd_key_id_hex(rot.old_id, old_id);
	sd_key_id_hex(rot.new_id, new_id);
	if (json)
		return sdd_json_print(json_pack("{s:b, s:s, s:s, s:i, s:I, s:I, s:b}", "ok", 1, "old_key_id", old_id,
		                                "new_key_id", new_id, "directory_version", (int)rot.version, "leaf",
		                                (json_int_t)rot.leaf, "log_size", (json_int_t)rot.size, "resumed",
		                                rot.resumed));
	printf(rot.resumed ? _("log key rotated: %s retired, %s signs from now on (audit leaf %llu: log-key-rotated "
	                       "%s:%s);\ndirectory version %u installed (finishing an interrupted rotation). Start "
	                       "the server.\n")
	                   : _("log key rotated: %s retired, %s signs from now on (audit leaf %llu: log-key-rotated "
	                       "%s:%s);\ndirectory version %u installed. Start the server.\n"),
	       old_id, new_id, (unsigned long long)rot.leaf, old_id, new_id, rot.version);

	return 0;
}

int sdd_cmd_logkey(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "new") == 0)
		return logkey_new(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "rotate") == 0)
		return logkey_rotate(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return sdd_help(&logkey_cmd);
	return sdd_usage_error(&logkey_cmd, "expected 'new' or 'rotate'");
}
