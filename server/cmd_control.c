/*
 * cmd_control.c — `sealdropd enroll`, `renew`, `disable`, `revoke` and `directory
 * install`: the operator commands that change a running server. Each builds one control request, sends it over
 * DIR/control.sock (sd_control_call, server/control.c) and reports the answer; none
 * touches the server's files, so every change goes through the store the server owns.
 *
 * Everything that can be checked before asking the server is checked first (options,
 * input files, outputs that must not exist yet and the directories that take them), so a
 * refused command changes nothing.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealdrop/bytes.h"
#include "sealdrop/ca.h"
#include "sealdrop/control.h"
#include "sealdrop/directory.h"
#include "sealdrop/fileio.h"
#include "sealdrop/keys.h"
#include "sealdrop/sealdrop.h"
#include "cmd.h"
#include "control_int.h"

/* --- enroll -------------------------------------------------------------------------- */

static const sdd_cmd_t enroll_cmd = {
        "enroll",
        N_("usage: sealdropd enroll --dir DIR --role ROLE --name NAME (--out OUTDIR | --csr FILE --cert-out FILE)\n"
           "                        [--box-pubkey FILE] [--json]\n"),
        N_("\nIssues a client certificate (valid 398 days) and records its account in the running\n"
           "server: role (attorney, officer, custodian or operator), a unique name, enabled.\n"
           "\n"
           "  --dir DIR          the server's directory (its control socket is DIR/control.sock)\n"
           "  --role ROLE        attorney, officer, custodian or operator\n"
           "  --name NAME        the account's name, also the certificate's CN (unique)\n"
           "  --out OUTDIR       the CA makes a new key: OUTDIR/key.pem (0600) and OUTDIR/cert.pem\n"
           "  --csr FILE         the user's certificate signing request (PEM or DER; P-256 or\n"
           "                     Ed25519): the private key never leaves the user's machine\n"
           "  --cert-out FILE    where the certificate goes, with --csr\n"
           "  --box-pubkey FILE  an attorney's X25519 public key file (sealdrop keygen --kind\n"
           "                     attorney) for notices\n"
           "  --json             print the result as JSON\n"
           "\nPrints the certificate's fingerprint (SHA-256 of its DER form). Nothing is overwritten.\n"),
};

typedef struct {
	const char *dir, *role, *name, *out, *csr, *cert_out, *box;
	bool json;
} enroll_opts_t;

/* Where the key comes from, for enroll and renew: the CA makes it (--out), or the user
 * did (--csr, and the certificate goes to --cert-out). */
static int out_or_csr(const sdd_cmd_t *cmd, const enroll_opts_t *o)
{
	if ((o->out != NULL) == (o->csr != NULL) || (o->csr != NULL) != (o->cert_out != NULL))
		return sdd_usage_error(cmd, "give either --out OUTDIR, or --csr FILE with --cert-out FILE");
	return 0;
}

static int enroll_parse(int argc, char **argv, enroll_opts_t *o)
{
	const sdd_opt_t opts[] = {
	        {"dir", 'd', .value = &o->dir},
	        {"role", 'r', .value = &o->role},
	        {"name", 'n', .value = &o->name},
	        {"out", 'o', .value = &o->out},
	        {"csr", 'c', .value = &o->csr},
	        {"cert-out", 'C', .value = &o->cert_out},
	        {"box-pubkey", 'b', .value = &o->box},
	        {"json", 'j', .flag = &o->json},
	        {0},
	};
	int status;

	if ((status = sdd_getopt(&enroll_cmd, argc, argv, opts)) != 0)
		return status;
	if (optind < argc)
		return sdd_usage_error(&enroll_cmd, "unexpected argument '%s'", argv[optind]);
	if (o->dir == NULL || o->role == NULL || o->name == NULL)
		return sdd_usage_error(&enroll_cmd, "--dir, --role and --name are required");
	if (!sd_ca_role_is_valid(o->role))
		return sdd_usage_error(&enroll_cmd, "--role must be attorney, officer, custodian or operator");
	return out_or_csr(&enroll_cmd, o);
}

static int absent(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return sd_error(SD_ERR_EXISTS, "%s already exists; nothing was changed", path);
	if (errno != ENOENT)
		return sd_error(SD_ERR_IO, "%s: %s", path, strerror(errno));
	return 0;
}

/* A new file can be made in dir: it exists, is a directory, and is writable (66 when it
 * does not exist, 74 otherwise, as creating OUTDIR fails). */
static int writable_dir(const char *dir, const char *file)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO,
		                "cannot create %s: %s: %s; nothing was changed", file, dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return sd_error(SD_ERR_IO, "cannot create %s: %s is not a directory; nothing was changed", file, dir);
	if (access(dir, W_OK | X_OK) != 0)
		return sd_error(SD_ERR_IO, "cannot create %s: %s: %s; nothing was changed", file, dir, strerror(errno));
	return 0;
}

/* --cert-out FILE must not exist and its directory must take a new file: checked before
 * the server records anything, as OUTDIR is. */
static int cert_out_check(const char *path, char cert[PATH_MAX])
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int r;

	if (path[0] == '\0')
		return sd_error(SD_ERR_USAGE, "--cert-out: the path is empty");
	if (strlen(path) >= PATH_MAX)
		return sd_error(SD_ERR_USAGE, "--cert-out: the path is too long");
	snprintf(cert, PATH_MAX, "%s", path);
	if ((r = absent(cert)) < 0)
		return r;
	if (slash == NULL)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == path)
		snprintf(parent, sizeof(parent), "/");
	else
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	return writable_dir(parent, path);
}

/* OUTDIR must be new, or an existing writable directory without key.pem and cert.pem; it
 * is created (0700) now, so a failure to create it cannot follow a successful enrolment. */
static int enroll_prepare_outdir(const char *dir, char key[PATH_MAX], char cert[PATH_MAX], bool *created)
{
	struct stat st;
	int r;

	*created = false;
	if ((r = sdd_path_join(key, dir, "key.pem")) < 0 || (r = sdd_path_join(cert, dir, "cert.pem")) < 0)
		return r;
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return sd_error(SD_ERR_EXISTS, "%s exists and is not a directory", dir);
		if ((r = absent(key)) < 0 || (r = absent(cert)) < 0)
			return r;
		return writable_dir(dir, key);
	}
	if (mkdir(dir, 0700) != 0)
		return sd_error(errno == ENOENT ? SD_ERR_NOENT : SD_ERR_IO, "cannot create %s: %s", dir,
		                strerror(errno));
	*created = true;
	return 0;
}

/* The CSR as PEM text: a DER file is wrapped, so the request is always JSON text. */
static int enroll_read_csr(const char *path, char **out)
{
	uint8_t *buf = NULL;
	size_t len = 0, b64_len, cap, off;
	char *pem = NULL, *b64 = NULL;
	int r;

	*out = NULL;
	if ((r = sd_file_read(path, SD_CA_CSR_MAX_BYTES, &buf, &len)) < 0)
		return r;
	if (len > 0 && strlen((const char *)buf) == len && sd_utf8_is_valid((const char *)buf, len)) {
		*out = (char *)buf; /* text: the server checks it is one PEM block */
		return 0;
	}
	b64_len = sd_base64_len(len);
	b64 = malloc(b64_len);
	pem = malloc(b64_len + b64_len / 64 + 80);
	if (b64 == NULL || pem == NULL) {
		r = sd_error(SD_ERR_NOMEM, "out of memory for the CSR");
		goto out;
	}
	sd_base64_encode(buf, len, b64);
	cap = b64_len + b64_len / 64 + 80;
	off = (size_t)snprintf(pem, cap, "-----BEGIN CERTIFICATE REQUEST-----\n");
	for (size_t i = 0; b64[i] != '\0'; i += strlen(b64 + i) < 64 ? strlen(b64 + i) : 64)
		off += (size_t)snprintf(pem + off, cap - off, "%.64s\n", b64 + i);
	snprintf(pem + off, cap - off, "-----END CERTIFICATE REQUEST-----\n");
	r = 0;
out:
	free(b64);
	free(buf);
	if (r < 0)
		free(pem);
	else
		*out = pem;
	return r;
}

static int enroll_request(const enroll_opts_t *o, json_t **out)
{
	json_t *req = json_pack("{s:s, s:s, s:s}", "op", "enroll", "role", o->role, "name", o->name);
	char *csr = NULL;
	sd_pubkey_t box;
	char b64[64];
	int r = 0;

	*out = NULL;
	if (req == NULL)
		return sd_error(SD_ERR_USAGE, "--name must be UTF-8 text");
	if (o->csr != NULL && (r = enroll_read_csr(o->csr, &csr)) == 0 &&
	    json_object_set_new(req, "csr", json_string(csr)) != 0)
		r = sd_error(SD_ERR_NOMEM, "out of memory for the request");
	free(csr);
	if (r == 0 && o->box != NULL) {
		if ((r = sd_pubkey_read(o->box, &box)) == 0 && box.kind != SD_KEY_ATTORNEY)
			r = sd_error(SD_ERR_INVALID, "%s is a %s key; --box-pubkey takes an attorney key", o->box,
			             sd_key_kind_name(box.kind));
		if (r == 0) {
			sd_base64_encode(box.pk, sizeof(box.pk), b64);
			if (json_object_set_new(req, "box_pubkey", json_string(b64)) != 0)
				r = sd_error(SD_ERR_NOMEM, "out of memory for the request");
		}
	}
	if (r < 0) {
		json_decref(req);
		return r;
	}
	*out = req;
	return 0;
}

/* The answer's files: the key first (0600), then the certificate (0644); never replacing.
 * A key whose certificate could not be written is removed: nothing could use it. */
static int enroll_write(const json_t *reply, const char *key_path, const char *cert_path)
{
	const char *cert = json_string_value(json_object_get(reply, "cert"));
	const char *key = json_string_value(json_object_get(reply, "key"));
	int r;

	if (cert == NULL || (key_path != NULL && key == NULL))
		return sd_error(SD_ERR_FORMAT, "sealdropd's answer lacks the certificate or the key");
	if (key_path != NULL && (r = sd_file_write(key_path, key, strlen(key), 0600, SD_AFILE_NOCLOBBER)) < 0)
		return r;
	if ((r = sd_file_write(cert_path, cert, strlen(cert), 0644, SD_AFILE_NOCLOBBER)) < 0 && key_path != NULL)
		unlink(key_path);
	return r;
}

/* The server recorded the certificate but its file could not be written (a full disk, a
 * directory changed meanwhile): what stands, and how to get a certificate written. */
static void issue_write_failed(const char *cmd, const char *recorded, const enroll_opts_t *o, const json_t *reply)
{
	const char *fp = json_string_value(json_object_get(reply, "fingerprint"));

	if (fp == NULL)
		fp = "?";
	fprintf(stderr, _("sealdropd: %s: %s (fingerprint %s), but: %s\n"), cmd, _(recorded), fp, sd_error_detail());
	fprintf(stderr,
	        _("sealdropd: %s: to get a certificate written, issue another one for the account:\n"
	          "  sealdropd renew --dir %s --name '%s' (--out NEW_OUTDIR | --csr FILE --cert-out FILE)\n"
	          "then retire the one that was not written:\n"
	          "  sealdropd revoke --dir %s --fingerprint %s\n"),
	        cmd, o->dir, o->name, o->dir, fp);
}

static int enroll_report(const enroll_opts_t *o, const json_t *reply, const char *key_path, const char *cert_path)
{
	const char *fp = json_string_value(json_object_get(reply, "fingerprint"));

	if (fp == NULL)
		fp = "";
	if (o->json)
		return sdd_json_print(json_pack("{s:s, s:s, s:s, s:s, s:s?}", "name", o->name, "role", o->role,
		                                "fingerprint", fp, "cert", cert_path, "key", key_path));
	printf(_("enrolled %s '%s'\n"), o->role, o->name);
	printf(_("fingerprint %s\n"), fp);
	if (key_path != NULL)
		printf(_("key         %s (keep it private)\n"), key_path);
	printf(_("certificate %s\n"), cert_path);
	return 0;
}

/* What enroll and renew share: the key's and certificate's paths, the control call, the
 * files written, the report. */
struct issue {
	const sdd_cmd_t *cmd;
	int (*request)(const enroll_opts_t *o, json_t **req);
	int (*report)(const enroll_opts_t *o, const json_t *reply, const char *key_path, const char *cert_path);
	const char *recorded; /* "the account is enrolled" (N_): what stands when a file fails */
};

static int issue_run(const struct issue *is, enroll_opts_t *o)
{
	char key[PATH_MAX], cert[PATH_MAX];
	json_t *req = NULL, *reply = NULL;
	bool created = false;
	int r, status;

	if (o->out != NULL) {
		r = enroll_prepare_outdir(o->out, key, cert, &created);
	} else {
		r = cert_out_check(o->cert_out, cert);
	}
	if (r < 0)
		return sdd_fail(is->cmd->name, r);
	if ((r = is->request(o, &req)) < 0 || (r = sd_control_call(o->dir, req, &reply)) < 0) {
		status = sdd_fail_call(is->cmd->name, r);
		goto out;
	}
	if ((r = enroll_write(reply, o->out != NULL ? key : NULL, cert)) < 0) {
		issue_write_failed(is->cmd->name, is->recorded, o, reply);
		status = sd_exit_code(r);
		goto out;
	}
	created = false;
	r = is->report(o, reply, o->out != NULL ? key : NULL, cert);
	status = r < 0 ? sdd_fail(is->cmd->name, r) : 0;
out:
	if (created)
		rmdir(o->out);
	json_decref(req);
	json_decref(reply);
	return status;
}

int sdd_cmd_enroll(int argc, char **argv)
{
	static const struct issue is = {&enroll_cmd, enroll_request, enroll_report, N_("the account is enrolled")};
	enroll_opts_t o = {0};
	int status;

	if ((status = enroll_parse(argc, argv, &o)) != 0)
		return status < 0 ? sdd_help(&enroll_cmd) : status;
	return issue_run(&is, &o);
}

/* --- disable ------------------------------------------------------------------------- */

/* Sends req (consumed) to the server in dir: 0 with its *reply, or the exit status after
 * saying why there is none. */
static const sdd_cmd_t disable_cmd = {
        "disable",
        N_("usage: sealdropd disable --dir DIR --name NAME [--json]\n"),
        N_("\nRefuses the account from now on, at once, and puts its certificate on the CRL the\n"
           "server publishes at /v1/crl. Disabling a disabled account is not an error.\n"
           "\n"
           "  --dir DIR    the server's directory (its control socket is DIR/control.sock)\n"
           "  --name NAME  the account's name, as enrolled\n"
           "  --json       print the result as JSON\n"),
};

/* Options shared by disable and directory install: --dir, --name (refused when name is
 * NULL), --json, --help. */
static int simple_parse(const sdd_cmd_t *cmd, int argc, char **argv, const char **dir, const char **name, bool *json)
{
	const sdd_opt_t opts[] = {
	        {"dir", 'd', .value = dir},
	        {"name", 'n', .value = name},
	        {"json", 'j', .flag = json},
	        {0},
	};
	int status;

	if ((status = sdd_getopt(cmd, argc, argv, opts)) != 0)
		return status;
	if (*dir == NULL)
		return sdd_usage_error(cmd, "--dir is required");
	if (name != NULL && *name == NULL)
		return sdd_usage_error(cmd, "--name is required");
	return 0;
}

int sdd_cmd_disable(int argc, char **argv)
{
	const char *dir = NULL, *name = NULL, *fp;
	json_t *req, *reply = NULL;
	bool json = false, already;
	int r = 0, status;

	if ((status = simple_parse(&disable_cmd, argc, argv, &dir, &name, &json)) != 0)
		return status < 0 ? sdd_help(&disable_cmd) : status;
	if (optind < argc)
		return sdd_usage_error(&disable_cmd, "unexpected argument '%s'", argv[optind]);
	if ((req = json_pack("{s:s, s:s}", "op", "disable", "name", name)) == NULL)
		return sdd_usage_error(&disable_cmd, "--name must be UTF-8 text");
	if ((status = sdd_control_call(&disable_cmd, dir, req, &reply)) != 0)
		return status;
	fp = json_string_value(json_object_get(reply, "fingerprint"));
	already = json_is_true(json_object_get(reply, "already_disabled"));
	if (json)
		r = sdd_json_print(json_pack("{s:s, s:s, s:b}", "name", name, "fingerprint", fp != NULL ? fp : "",
		                             "already_disabled", already));
	else
		printf(already ? _("already disabled '%s' (fingerprint %s); its certificate is on the CRL\n")
		               : _("disabled '%s' (fingerprint %s); its certificate is on the CRL\n"),
		       name, fp != NULL ? fp : "?");
	json_decref(reply);
	return r < 0 ? sdd_fail(disable_cmd.name, r) : 0;
}

/* --- renew ------------------------------------------------------------------------------ */

static const sdd_cmd_t renew_cmd = {
        "renew",
        N_("usage: sealdropd renew --dir DIR --name NAME (--out OUTDIR | --csr FILE --cert-out FILE) [--json]\n"),
        N_("\nIssues a new client certificate (valid 398 days) for an enabled account: the same name,\n"
           "role and box key. The account keeps its cases, uploads and notices; its other\n"
           "certificates keep working until they expire or `sealdropd revoke` retires them, so the\n"
           "user switches without a gap. The audit log records a certificate-renewed leaf.\n"
           "\n"
           "  --dir DIR          the server's directory (its control socket is DIR/control.sock)\n"
           "  --name NAME        the account's name, as enrolled\n"
           "  --out OUTDIR       the CA makes a new key: OUTDIR/key.pem (0600) and OUTDIR/cert.pem\n"
           "  --csr FILE         the user's new certificate signing request (PEM or DER)\n"
           "  --cert-out FILE    where the certificate goes, with --csr\n"
           "  --json             print the result as JSON\n"
           "\nPrints the new certificate's fingerprint. Nothing is overwritten.\n"),
};

static int renew_parse(int argc, char **argv, enroll_opts_t *o)
{
	const sdd_opt_t opts[] = {
	        {"dir", 'd', .value = &o->dir},
	        {"name", 'n', .value = &o->name},
	        {"out", 'o', .value = &o->out},
	        {"csr", 'c', .value = &o->csr},
	        {"cert-out", 'C', .value = &o->cert_out},
	        {"json", 'j', .flag = &o->json},
	        {0},
	};
	int status;

	if ((status = sdd_getopt(&renew_cmd, argc, argv, opts)) != 0)
		return status;
	if (optind < argc)
		return sdd_usage_error(&renew_cmd, "unexpected argument '%s'", argv[optind]);
	if (o->dir == NULL || o->name == NULL)
		return sdd_usage_error(&renew_cmd, "--dir and --name are required");
	return out_or_csr(&renew_cmd, o);
}

static int renew_request(const enroll_opts_t *o, json_t **out)
{
	json_t *req = json_pack("{s:s, s:s}", "op", "renew", "name", o->name);
	char *csr = NULL;
	int r = 0;

	*out = NULL;
	if (req == NULL)
		return sd_error(SD_ERR_USAGE, "--name must be UTF-8 text");
	if (o->csr != NULL && (r = enroll_read_csr(o->csr, &csr)) == 0 &&
	    json_object_set_new(req, "csr", json_string(csr)) != 0)
		r = sd_error(SD_ERR_NOMEM, "out of memory for the request");
	free(csr);
	if (r < 0) {
		json_decref(req);
		return r;
	}
	*out = req;
	return 0;
}

static int renew_report(const enroll_opts_t *o, const json_t *reply, const char *key_path, const char *cert_path)
{
	const char *fp = json_string_value(json_object_get(reply, "fingerprint"));
	const char *account = json_string_value(json_object_get(reply, "account"));
	const char *role = json_string_value(json_object_get(reply, "role"));

	if (o->json)
		return sdd_json_print(json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s?}", "name", o->name, "role", role,
		                                "fingerprint", fp, "account", account, "cert", cert_path, "key",
		                                key_path));
	printf(_("renewed %s '%s'\n"), role != NULL ? role : "?", o->name);
	printf(_("fingerprint %s (new)\n"), fp != NULL ? fp : "?");
	printf(_("account     %s (its first certificate's; the earlier ones work until revoked)\n"),
	       account != NULL ? account : "?");
	if (key_path != NULL)
		printf(_("key         %s (keep it private)\n"), key_path);
	printf(_("certificate %s\n"), cert_path);
	return 0;
}

int sdd_cmd_renew(int argc, char **argv)
{
	static const struct issue is = {&renew_cmd, renew_request, renew_report, N_("the certificate is recorded")};
	enroll_opts_t o = {0};
	int status;

	if ((status = renew_parse(argc, argv, &o)) != 0)
		return status < 0 ? sdd_help(&renew_cmd) : status;
	return issue_run(&is, &o);
}

/* --- revoke ----------------------------------------------------------------------------- */

static const sdd_cmd_t revoke_cmd = {
        "revoke",
        N_("usage: sealdropd revoke --dir DIR --fingerprint HEX [--json]\n"),
        N_("\nRetires one certificate of an account that has another (the old one, once its user\n"
           "works with the renewed one): it is refused from the next request on and its serial is\n"
           "on the CRL at /v1/crl at once. The account and its other certificates are untouched;\n"
           "to refuse the account itself, use `sealdropd disable`, which is also what retiring\n"
           "its last usable certificate takes. Revoking a revoked certificate is not an error.\n"
           "\n"
           "  --dir DIR            the server's directory (its control socket is DIR/control.sock)\n"
           "  --fingerprint HEX    the certificate's SHA-256 fingerprint, as enroll or renew printed it\n"
           "  --json               print the result as JSON\n"),
};

int sdd_cmd_revoke(int argc, char **argv)
{
	const char *dir = NULL, *fp_arg = NULL;
	bool json = false, already;
	const sdd_opt_t opts[] = {
	        {"dir", 'd', .value = &dir},
	        {"fingerprint", 'f', .value = &fp_arg},
	        {"json", 'j', .flag = &json},
	        {0},
	};
	json_t *req, *reply = NULL;
	int r = 0, status;

	if ((status = sdd_getopt(&revoke_cmd, argc, argv, opts)) != 0)
		return status < 0 ? sdd_help(&revoke_cmd) : status;
	if (optind < argc)
		return sdd_usage_error(&revoke_cmd, "unexpected argument '%s'", argv[optind]);
	if (dir == NULL || fp_arg == NULL)
		return sdd_usage_error(&revoke_cmd, "--dir and --fingerprint are required");
	if ((req = json_pack("{s:s, s:s}", "op", "revoke", "fingerprint", fp_arg)) == NULL)
		return sdd_usage_error(&revoke_cmd, "--fingerprint must be 64 hexadecimal digits");
	if ((status = sdd_control_call(&revoke_cmd, dir, req, &reply)) != 0)
		return status;
	already = json_is_true(json_object_get(reply, "already_disabled"));
	if (json)
		r = sdd_json_print(json_pack("{s:s, s:b}", "fingerprint", fp_arg, "already_revoked", already));
	else
		printf(already ? _("already revoked certificate %s; its serial is on the CRL\n")
		               : _("revoked certificate %s; its serial is on the CRL\n"),
		       fp_arg);
	json_decref(reply);
	return r < 0 ? sdd_fail(revoke_cmd.name, r) : 0;
}

/* --- directory install ----------------------------------------------------------------- */

static const sdd_cmd_t directory_cmd = {
        "directory install",
        N_("usage: sealdropd directory install --dir DIR FILE [--json]\n"),
        N_("\nReplaces the directory the running server serves at /v1/directory with FILE, at once,\n"
           "and writes it to DIR/directory.json. The server refuses a directory that is not signed\n"
           "by the root key it pinned, that has expired, whose version is lower than the one it\n"
           "serves, that is for another deployment, or that no longer lists the server's own log\n"
           "key and CA certificate.\n"
           "\n"
           "  --dir DIR  the server's directory (its control socket is DIR/control.sock)\n"
           "  --json     print the result as JSON\n"),
};

static int directory_install(int argc, char **argv)
{
	const char *dir = NULL, *file, *deployment;
	json_t *req = NULL, *reply = NULL;
	uint8_t *text = NULL;
	size_t len = 0;
	bool json = false;
	int r, status;

	if ((status = simple_parse(&directory_cmd, argc, argv, &dir, NULL, &json)) != 0)
		return status < 0 ? sdd_help(&directory_cmd) : status;
	if (optind == argc)
		return sdd_usage_error(&directory_cmd, "missing the directory FILE");
	if (optind + 1 < argc)
		return sdd_usage_error(&directory_cmd, "unexpected argument '%s'", argv[optind + 1]);
	file = argv[optind];
	if ((r = sd_file_read(file, SD_DIRECTORY_MAX_BYTES, &text, &len)) < 0)
		return sdd_fail(directory_cmd.name, r);
	req = json_pack("{s:s, s:s%}", "op", "directory_install", "directory", (const char *)text, len);
	free(text);
	if (req == NULL)
		return sdd_fail(directory_cmd.name, sd_error(SD_ERR_FORMAT, "%s is not UTF-8 text", file));
	if ((status = sdd_control_call(&directory_cmd, dir, req, &reply)) != 0)
		return status;
	deployment = json_string_value(json_object_get(reply, "deployment"));
	if (json)
		r = sdd_json_print(json_pack("{s:O?, s:s?}", "version", json_object_get(reply, "version"), "deployment",
		                             deployment));
	else
		printf(_("installed directory version %lld of deployment %s\n"),
		       (long long)json_integer_value(json_object_get(reply, "version")),
		       deployment != NULL ? deployment : "?");
	json_decref(reply);
	return r < 0 ? sdd_fail(directory_cmd.name, r) : 0;
}

int sdd_cmd_directory(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "install") == 0)
		return directory_install(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return sdd_help(&directory_cmd);
	fprintf(stderr, _("sealdropd: directory: expected 'install' (the client's `sealdrop directory create`\n"
	                  "signs a directory)\n"));
	fputs(_(directory_cmd.synopsis), stderr);
	return SDD_EX_USAGE;
}
