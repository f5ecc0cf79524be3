/*
 * cmd_doctor.c — `sealdrop doctor`: checks a person's set-up and says what to fix, one
 * line per check, then a count. It changes nothing but the anti-rollback state every
 * client keeps (a newer verified directory version is recorded, as `directory verify`
 * records it).
 *
 * The checks run in a fixed order, each skipped with its reason when its inputs are
 * absent (an attorney has a certificate; a whistleblower only a directory and the root
 * key): the config file and the locale; the root key, the directory (signature, expiry,
 * rollback), the CA, the client key and certificate (mode, pair, dates, issuer); then
 * the server (TLS 1.3 with --ca, /v1/health, its directory against the local one, the
 * certificate accepted) and the clock. The server sends no Date header, by design, so
 * the clock is compared by the date alone: the date of the server's latest signed log
 * head (published on a schedule, so it may be a day old) against today in Korea Standard
 * Time (docs/DECISIONS.md). A FAIL's kind decides the exit status (worst first: 78, 66,
 * 65, 77, 69). Start at doctor_run().
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sealdrop/fileio.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"
#include "https.h"
#include "https_cert.h"

#define CHECKS_MAX     24
#define DETAIL_MAX     640
#define FIX_MAX        480
#define WARN_DAYS      30    /* a directory or certificate this close to its end: a warning */
#define DOCTOR_TIMEOUT 15000 /* ms: connecting and each read, rather than a minute */
#define KST_SECONDS    (9 * 3600)
#define SET_CLOCK      "sudo timedatectl set-ntp true"
#define EX_DATAERR     65
#define EX_NOINPUT     66
#define EX_UNAVAILABLE 69
#define EX_NOPERM      77
#define EX_CONFIG      78

static const cli_cmd_t cmd_doctor_def = {
        "doctor",
        N_("usage: sealdrop doctor [--server URL] [--ca CA.pem] [--cert CERT.pem --key KEY.pem]\n"
           "                       [--directory D] [--root ROOTPUB] [--config FILE] [--json]\n"),
        N_("\n"
           "Checks your set-up and says what to fix: one line per check (ok, warning, FAIL with\n"
           "the fix, or skipped with the reason), then a count. Nothing is sent but requests that\n"
           "read: /v1/health, /v1/directory, /v1/log/head and, with a certificate, /v1/cases.\n"
           "\n"
           "  config      the config file can be read\n"
           "  locale      LANG names a Korean or English UTF-8 locale that is installed\n"
           "  root        the root public key file (--root) is readable and of kind root\n"
           "  directory   --directory verifies against --root; its expiry; not a rollback\n"
           "  ca          the CA file (--ca), its dates, and that the directory lists it\n"
           "  key, cert   the key file is private (mode 0600), belongs to the certificate; the\n"
           "              certificate's dates, and that --ca issued it\n"
           "  server      TLS 1.3 to --server with --ca, /v1/health, the server's directory is\n"
           "              yours (or a newer version of it), your certificate is accepted\n"
           "  clock       today's date (Korea Standard Time) against the server's: the date of\n"
           "              its latest signed log head (the server tells no time of day)\n"
           "\n"
           "  --server URL            the server, https://HOST[:PORT]\n"
           "  --ca CA.pem             the server's CA certificate\n"
           "  --cert CERT.pem         your client certificate (attorney, officer, custodian,\n"
           "                          operator; a whistleblower has none)\n"
           "  --key KEY.pem           its private key\n"
           "  --directory D           the signed key directory you keep\n"
           "  --root ROOTPUB          the pinned root public key (kind root)\n"
           "  --config FILE           read this config file instead of the default one\n"
           "  --json                  print {\"checks\": [{\"check\", \"status\", \"detail\", \"fix\"}, ...]}\n"
           "  -h, --help              this help\n"
           "\n"
           "Options not given are taken from the config file (see 'sealdrop cases --help').\n"
           "Exit status: 0 nothing failed (warnings allowed); else the worst failure's kind:\n"
           "78 configuration (config file, clock, URL), 66 a file is missing, 65 bad or\n"
           "mismatched data (signature, expiry, another deployment), 77 refused (a key others\n"
           "can read, a certificate the server does not accept), 69 the server is unreachable.\n"),
};

enum { OPT_SERVER = 256, OPT_CA, OPT_CERT, OPT_KEY, OPT_DIRECTORY, OPT_ROOT, OPT_CONFIG, OPT_JSON };

typedef enum { DOC_OK, DOC_WARN, DOC_FAIL, DOC_SKIP } doc_status_t;

typedef struct {
	const char *check; /* a stable word, never translated */
	doc_status_t status;
	int exit; /* a FAIL's kind: 65, 66, 69, 77 or 78 */
	char detail[DETAIL_MAX];
	char fix[FIX_MAX];
} doc_result_t;

typedef struct {
	cli_remote_opts_t o;
	cli_config_t cfg;
	const char *dir_path, *config_path;
	bool json;
	doc_result_t res[CHECKS_MAX + 1]; /* the last one absorbs an overflow */
	size_t n;
	sd_date_t today;
	int64_t now;
	sd_pubkey_t root;
	bool has_root, ca_ok, cert_usable, reached, tls_clock_behind;
	cli_cert_info_t cert;
	sd_directory_t *dir;     /* the local directory, verified */
	sd_directory_t *srv_dir; /* the server's, verified */
	cli_https_ctx_t *ctx;
	cli_https_conn_t *conn;
} doctor_t;

/* --- results ------------------------------------------------------------------------- */

static doc_result_t *result(doctor_t *d, const char *check, doc_status_t st, int ex, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static doc_result_t *result(doctor_t *d, const char *check, doc_status_t st, int ex, const char *fmt, ...)
{
	doc_result_t *r = &d->res[d->n < CHECKS_MAX ? d->n++ : CHECKS_MAX];
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->check = check;
	r->status = st;
	r->exit = st == DOC_FAIL ? ex : 0;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	return r;
}

static void fix(doc_result_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fix(doc_result_t *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->fix, sizeof(r->fix), fmt, ap);
	va_end(ap);
}

/* The library's detail for the failure r just returned. */
static const char *why(int r)
{
	const char *s = sd_error_detail();

	return s[0] != '\0' ? s : sd_strerror(r);
}

/* The exit status of a file that cannot be read (66) or is not what it should be (65). */
static int file_kind(int r)
{
	return r == SD_ERR_NOENT || r == SD_ERR_IO ? EX_NOINPUT : EX_DATAERR;
}

static sd_date_t kst_date(int64_t t)
{
	int64_t s = t + KST_SECONDS;

	return sd_date_from_days(s >= 0 ? s / 86400 : -((-s + 86399) / 86400));
}

static void date_text(sd_date_t day, char out[SD_DATE_TEXT_BYTES])
{
	sd_date_format(day, out);
}

static int64_t days_between(sd_date_t from, sd_date_t to)
{
	return sd_date_to_days(to) - sd_date_to_days(from);
}

/* --- config and locale ------------------------------------------------------------------ */

static void check_config(doctor_t *d)
{
	doc_result_t *r;
	int e;

	sd_error_clear();
	if ((e = cli_config_load(&d->cfg)) < 0) {
		r = result(d, "config", DOC_FAIL, EX_CONFIG, "%s", why(e));
		fix(r, _("correct the file as the message says (see 'sealdrop cases --help'), or name another with "
		         "--config"));
		return;
	}
	cli_config_apply(&d->cfg, &d->o);
	if (d->cfg.path == NULL)
		result(d, "config", DOC_SKIP, 0, _("no config file: only the options given are checked"));
	else
		result(d, "config", DOC_OK, 0, _("%s read"), d->cfg.path);
}

static bool locale_is_utf8(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot != NULL && (strncasecmp(dot + 1, "UTF-8", 5) == 0 || strncasecmp(dot + 1, "utf8", 4) == 0);
}

/* "ko", "en" or "C" (C.UTF-8: English) when name is one of those languages, else NULL. */
static const char *locale_language(const char *name)
{
	if (strncmp(name, "ko", 2) == 0 && (name[2] == '_' || name[2] == '.' || name[2] == '\0'))
		return "ko";
	if (strncmp(name, "en", 2) == 0 && (name[2] == '_' || name[2] == '.' || name[2] == '\0'))
		return "en";
	if (strncmp(name, "C.", 2) == 0)
		return "C";
	return NULL;
}

static void check_locale(doctor_t *d)
{
	const char *want = sd_locale_requested(), *now = setlocale(LC_MESSAGES, NULL), *lang;
	const char *fix_lang =
	        _("export LANG=ko_KR.UTF-8 (Korean) or LANG=en_US.UTF-8 (English) in your shell's profile");
	doc_result_t *r;

	if (want == NULL || strcmp(want, "C") == 0 || strcmp(want, "POSIX") == 0) {
		r = result(d, "locale", DOC_WARN, 0,
		           _("no locale is set (LANG, LC_ALL): sealdrop speaks English, and Korean text may not show"));
		fix(r, "%s", fix_lang);
		return;
	}
	lang = locale_language(want);
	if (lang == NULL || !locale_is_utf8(want)) {
		r = result(d, "locale", DOC_WARN, 0,
		           lang == NULL ? _("%s is neither Korean nor English: sealdrop falls back to English")
		                        : _("%s is not a UTF-8 locale: Korean text may not show"),
		           want);
		fix(r, "%s", fix_lang);
		return;
	}
	if (now != NULL && strcmp(now, want) != 0 && strcmp(lang, "C") != 0) {
		r = result(d, "locale", DOC_WARN, 0,
		           _("%s is not installed on this computer: sealdrop falls back to C.UTF-8 with its own "
		             "catalogue (its messages stay in the language asked for; other programs' do not)"),
		           want);
		fix(r,
		    _("install it: sudo dpkg-reconfigure locales (choose %s), or sudo localedef -i %.*s -f UTF-8 %s"),
		    want, (int)strcspn(want, ".@"), want, want);
		return;
	}
	result(d, "locale", DOC_OK, 0,
	       strcmp(lang, "ko") == 0 ? _("%s: messages in Korean") : _("%s: messages in English"), want);
}

/* --- the root key and the directory ------------------------------------------------------ */

static void check_root(doctor_t *d)
{
	char id[SD_KEY_ID_HEX_BYTES];
	doc_result_t *r;
	struct stat st;
	int e;

	if (d->o.root == NULL) {
		result(d, "root", DOC_SKIP, 0, _("no root public key (--root): no directory can be verified"));
		return;
	}
	sd_error_clear();
	if ((e = cli_pubkey_load("--root", d->o.root, SD_KEY_ROOT, &d->root)) < 0) {
		r = result(d, "root", DOC_FAIL, file_kind(e), "%s", why(e));
		fix(r, _("--root must name the deployment's root public key file (root.key.pub), as your operator or "
		         "attorney gave it to you"));
		return;
	}
	d->has_root = true;
	sd_key_id_hex(d->root.id, id);
	if (stat(d->o.root, &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		r = result(d, "root", DOC_WARN, 0,
		           _("%s (root key %s) can be changed by other users: whoever changes it decides whom you "
		             "trust"),
		           d->o.root, id);
		fix(r, "chmod go-w %s", d->o.root);
		return;
	}
	result(d, "root", DOC_OK, 0, _("%s: root key %s"), d->o.root, id);
}

/* The fix for a directory that cannot be used: get the deployment's current one. */
static void fix_get_directory(const doctor_t *d, doc_result_t *r)
{
	if (d->o.server != NULL && d->o.ca != NULL)
		fix(r,
		    _("get the current directory: curl --cacert %s -o NEW.json %s/v1/directory, then sealdrop "
		      "directory verify NEW.json --root ROOTPUB"),
		    d->o.ca, d->o.server);
	else
		fix(r, _("ask your operator (or your attorney) for the deployment's current directory"));
}

/* Reads and verifies the local directory into d->dir; the dates are judged afterwards, so
 * parsing takes the earliest date there is and an expired directory still shows when it
 * expired. */
static void check_directory(doctor_t *d)
{
	static const sd_date_t any_day = {1800, 1, 1};
	char id[SD_KEY_ID_HEX_BYTES], issued[SD_DATE_TEXT_BYTES];
	uint8_t *text = NULL;
	size_t len = 0;
	doc_result_t *r;
	int e;

	if (d->dir_path == NULL) {
		result(d, "directory", DOC_SKIP, 0, _("no directory file (--directory)"));
		return;
	}
	sd_error_clear();
	if ((e = sd_file_read(d->dir_path, SD_DIRECTORY_MAX_BYTES, &text, &len)) < 0) {
		r = result(d, "directory", DOC_FAIL, file_kind(e), "%s", why(e));
		fix_get_directory(d, r);
		goto out;
	}
	if (!d->has_root) {
		r = result(d, "directory", DOC_WARN, 0, _("%s is not verified: no usable root key"), d->dir_path);
		fix(r, _("give --root ROOTPUB (or 'root' in the config file), the deployment's root public key"));
		goto out;
	}
	if ((e = sd_directory_parse(text, len, &d->root, any_day, &d->dir)) < 0) {
		sd_key_id_hex(d->root.id, id);
		r = result(d, "directory", DOC_FAIL, EX_DATAERR, "%s: %s", d->dir_path, why(e));
		if (e == SD_ERR_VERIFY)
			fix(r,
			    _("it is not signed by your root key %s: use the directory and the root key of one "
			      "deployment"),
			    id);
		else
			fix_get_directory(d, r);
		goto out;
	}
	sd_key_id_hex(d->dir->root_id, id);
	date_text(d->dir->issued, issued);
	if (d->dir->test) {
		r = result(d, "directory", DOC_WARN, 0,
		           _("%s: a TEST directory (deployment %s): codenames are barely stretched; never use it for "
		             "real reports"),
		           d->dir_path, d->dir->deployment);
		fix(r, _("ask your operator for the deployment's real directory"));
		goto out;
	}
	result(d, "directory", DOC_OK, 0, _("%s: deployment %s, version %u, issued %s, signed by your root key %s"),
	       d->dir_path, d->dir->deployment, d->dir->version, issued, id);
out:
	free(text);
}

static void check_directory_dates(doctor_t *d)
{
	char until[SD_DATE_TEXT_BYTES];
	doc_result_t *r;
	int64_t left;
	int e;

	if (d->dir == NULL) {
		result(d, "directory-expiry", DOC_SKIP, 0, _("no verified directory"));
		result(d, "directory-version", DOC_SKIP, 0, _("no verified directory"));
		return;
	}
	date_text(d->dir->not_after, until);
	left = days_between(d->today, d->dir->not_after);
	if (left < 0) {
		r = result(d, "directory-expiry", DOC_FAIL, EX_DATAERR, _("the directory expired on %s"), until);
		fix_get_directory(d, r);
	} else if (left < WARN_DAYS) {
		r = result(d, "directory-expiry", DOC_WARN, 0, _("the directory is valid until %s: %lld days left"),
		           until, (long long)left);
		fix(r, _("ask your operator for the next version before %s"), until);
	} else {
		result(d, "directory-expiry", DOC_OK, 0, _("valid until %s (%lld days left)"), until, (long long)left);
	}
	sd_error_clear();
	if ((e = sd_directory_check_version(d->dir, NULL)) < 0) {
		r = result(d, "directory-version", e == SD_ERR_ROLLBACK ? DOC_FAIL : DOC_WARN, EX_DATAERR, "%s",
		           why(e));
		if (e == SD_ERR_ROLLBACK)
			fix(r, _("this computer already trusted a newer version: an old directory is being replayed, "
			         "or you kept an old copy; use the newest one"));
		return;
	}
	result(d, "directory-version", DOC_OK, 0,
	       _("version %u is not older than any this computer has seen for deployment %s"), d->dir->version,
	       d->dir->deployment);
}

/* --- the CA, the key and the certificate -------------------------------------------------- */

/* A certificate's dates against the local clock: check names the line, what the file.
 * DOC_OK when it reported nothing (the caller reports), else what it reported. */
static doc_status_t cert_dates(doctor_t *d, const char *check, const char *what, const cli_cert_info_t *c,
                               const char *renew)
{
	char from[SD_DATE_TEXT_BYTES], until[SD_DATE_TEXT_BYTES];
	int64_t left = days_between(d->today, kst_date(c->not_after));
	doc_result_t *r;

	date_text(kst_date(c->not_before), from);
	date_text(kst_date(c->not_after), until);
	if (c->not_before > d->now) {
		r = result(d, check, DOC_FAIL, EX_CONFIG, _("%s is not valid before %s by this computer's clock"), what,
		           from);
		fix(r, _("if %s has passed, your clock is behind: set the clock: %s"), from, SET_CLOCK);
		return DOC_FAIL;
	}
	if (c->not_after < d->now) {
		r = result(d, check, DOC_FAIL, EX_DATAERR, _("%s expired on %s"), what, until);
		fix(r, "%s", renew);
		return DOC_FAIL;
	}
	if (left < WARN_DAYS) {
		r = result(d, check, DOC_WARN, 0, _("%s expires on %s: %lld days left"), what, until, (long long)left);
		fix(r, "%s", renew);
		return DOC_WARN;
	}
	return DOC_OK;
}

static void check_ca(doctor_t *d)
{
	char until[SD_DATE_TEXT_BYTES];
	cli_cert_info_t c;
	doc_result_t *r;
	doc_status_t st;
	int e;

	if (d->o.ca == NULL) {
		result(d, "ca", DOC_SKIP, 0, _("no CA file (--ca): needed only to reach the server"));
		return;
	}
	sd_error_clear();
	if ((e = cli_cert_info_read(d->o.ca, &c)) < 0 || !c.is_ca) {
		r = result(d, "ca", DOC_FAIL, e < 0 ? file_kind(e) : EX_DATAERR, "%s",
		           e < 0 ? why(e) : _("--ca names a certificate that is not a CA"));
		fix(r, _("--ca must name the deployment's CA certificate (ca.pem), as your operator gave it"));
		return;
	}
	st = cert_dates(d, "ca", d->o.ca, &c, _("ask your operator for the deployment's current ca.pem"));
	d->ca_ok = st != DOC_FAIL;
	if (st != DOC_OK)
		return;
	date_text(kst_date(c.not_after), until);
	result(d, "ca", DOC_OK, 0, _("%s: CA \"%s\", valid until %s"), d->o.ca, c.cn, until);
}

static void check_ca_directory(doctor_t *d)
{
	doc_result_t *r;

	if (!d->ca_ok || d->dir == NULL || d->dir->tls_ca_pem == NULL) {
		result(d, "ca-directory", DOC_SKIP, 0,
		       !d->ca_ok        ? _("no usable CA file")
		       : d->dir == NULL ? _("no verified directory")
		                        : _("the directory lists no TLS CA"));
		return;
	}
	sd_error_clear();
	if (cli_cert_same(d->o.ca, d->dir->tls_ca_pem) < 0) {
		r = result(d, "ca-directory", DOC_FAIL, EX_DATAERR, _("%s is not the TLS CA your directory lists"),
		           d->o.ca);
		fix(r, _("use the deployment's ca.pem: the one its signed directory lists"));
		return;
	}
	result(d, "ca-directory", DOC_OK, 0, _("the directory lists %s as the server's CA"), d->o.ca);
}

static const char *key_path(const doctor_t *d)
{
	return d->o.key != NULL ? d->o.key : d->o.cert;
}

static void check_key(doctor_t *d)
{
	const char *key = key_path(d);
	doc_result_t *r;
	struct stat st;

	if (d->o.cert == NULL) {
		result(d, "key", DOC_SKIP, 0, _("no certificate (--cert; a whistleblower needs none)"));
		return;
	}
	if (stat(key, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = result(d, "key", DOC_FAIL, EX_NOINPUT, "%s: %s", key,
		           access(key, F_OK) != 0 ? strerror(errno) : _("not a regular file"));
		fix(r, _("--key must name the key.pem that came with your certificate"));
		return;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		r = result(d, "key", DOC_FAIL, EX_NOPERM, _("%s (mode %04o) can be read by other users"), key,
		           (unsigned)(st.st_mode & 07777));
		fix(r, "chmod 600 %s", key);
		return;
	}
	if (st.st_uid != getuid()) {
		r = result(d, "key", DOC_WARN, 0, _("%s belongs to another user"), key);
		fix(r, "chown %lu %s", (unsigned long)getuid(), key);
		return;
	}
	result(d, "key", DOC_OK, 0, _("%s: mode %04o, yours"), key, (unsigned)(st.st_mode & 07777));
}

static void check_cert(doctor_t *d)
{
	char until[SD_DATE_TEXT_BYTES], renew[FIX_MAX];
	doc_result_t *r;
	int e;

	if (d->o.cert == NULL) {
		result(d, "cert", DOC_SKIP, 0, _("no certificate (--cert; a whistleblower needs none)"));
		return;
	}
	sd_error_clear();
	if ((e = cli_cert_info_read(d->o.cert, &d->cert)) < 0) {
		r = result(d, "cert", DOC_FAIL, file_kind(e), "%s", why(e));
		fix(r, _("--cert must name the cert.pem your operator issued (sealdropd enroll)"));
		return;
	}
	d->cert_usable = true; /* an expired one is still presented: the server's answer says more */
	snprintf(renew, sizeof(renew),
	         _("ask your operator to renew it: sealdropd renew --dir DIR --name \"%s\" --out OUTDIR "
	           "(a new certificate for the same account; the old one works until it is revoked)"),
	         d->cert.cn[0] != '\0' ? d->cert.cn : "NAME");
	if (cert_dates(d, "cert", d->o.cert, &d->cert, renew) != DOC_OK)
		return;
	date_text(kst_date(d->cert.not_after), until);
	result(d, "cert", DOC_OK, 0, _("%s: \"%s\", role %s, valid until %s (%lld days left)"), d->o.cert, d->cert.cn,
	       d->cert.role[0] != '\0' ? d->cert.role : "?", until,
	       (long long)days_between(d->today, kst_date(d->cert.not_after)));
}

static void check_cert_pair(doctor_t *d)
{
	doc_result_t *r;
	int e;

	if (!d->cert_usable) {
		result(d, "cert-key", DOC_SKIP, 0,
		       d->o.cert == NULL ? _("no certificate") : _("the certificate cannot be read"));
		result(d, "cert-ca", DOC_SKIP, 0,
		       d->o.cert == NULL ? _("no certificate") : _("the certificate cannot be read"));
		return;
	}
	sd_error_clear();
	if ((e = cli_cert_key_check(d->o.cert, key_path(d))) < 0) {
		d->cert_usable = false;
		r = result(d, "cert-key", DOC_FAIL, file_kind(e), "%s", why(e));
		fix(r, _("use the key.pem that was made with %s (sealdropd enroll --out writes both)"), d->o.cert);
	} else {
		result(d, "cert-key", DOC_OK, 0, _("%s is the key of %s"), key_path(d), d->o.cert);
	}
	if (!d->ca_ok) {
		result(d, "cert-ca", DOC_SKIP, 0, _("no usable CA file"));
		return;
	}
	sd_error_clear();
	if ((e = cli_cert_issuer_check(d->o.cert, d->o.ca)) < 0) {
		r = result(d, "cert-ca", DOC_FAIL, file_kind(e), _("%s was not issued by %s: %s"), d->o.cert, d->o.ca,
		           why(e));
		fix(r, _("use the ca.pem of the deployment that enrolled you, or ask for a certificate from this one"));
		return;
	}
	result(d, "cert-ca", DOC_OK, 0, _("%s was issued by %s"), d->o.cert, d->o.ca);
}

/* --- the server ------------------------------------------------------------------------ */

/* GET path on the doctor's connection, asked once: a busy server is reported, not waited
 * for. */
static int get(doctor_t *d, const char *path, cli_https_response_t *resp)
{
	cli_https_request_t req = {.method = "GET", .path = path, .body_fd = -1};

	memset(resp, 0, sizeof(*resp));
	sd_error_clear();
	return cli_https_request(d->conn, &req, resp);
}

/* Why the first request did not get through: the network, or the server's certificate
 * (https.c names OpenSSL's verdict in its detail). */
static void server_unreached(doctor_t *d, int e)
{
	const char *w = why(e);
	doc_result_t *r;

	if (e != CLI_ERR_PROTOCOL) {
		r = result(d, "server", DOC_FAIL, EX_UNAVAILABLE, "%s: %s", d->o.server, w);
		fix(r,
		    _("is the server running? Check the URL (host and port) and your network, or ask your operator"));
	} else if (strstr(w, "not yet valid") != NULL) {
		d->tls_clock_behind = true;
		r = result(d, "server", DOC_FAIL, EX_CONFIG,
		           _("the server's certificate is not valid yet by this computer's clock"));
		fix(r, _("your clock is behind: set the clock: %s"), SET_CLOCK);
	} else if (strstr(w, "has expired") != NULL) {
		r = result(d, "server", DOC_FAIL, EX_DATAERR,
		           _("the server's certificate has expired by this computer's clock"));
		fix(r, _("tell your operator; if your clock is ahead, set it: %s"), SET_CLOCK);
	} else if (strstr(w, "not issued for") != NULL) {
		r = result(d, "server", DOC_FAIL, EX_DATAERR, "%s", w);
		fix(r, _("use the host name or address the server's certificate was issued for (ask your operator)"));
	} else {
		r = result(d, "server", DOC_FAIL, EX_DATAERR, "%s", w);
		fix(r, _("--ca must be the CA of this server's deployment; if it is, tell your operator"));
	}
}

static void check_health(doctor_t *d, const cli_https_response_t *resp)
{
	json_t *o = NULL;
	const char *status = NULL, *version = NULL;

	if (resp->status == 200 && cli_answer_object(resp, "/v1/health", &o) == 0) {
		status = json_string_value(json_object_get(o, "status"));
		version = json_string_value(json_object_get(o, "version"));
	}
	if (status != NULL && strcmp(status, "ok") == 0)
		result(d, "health", DOC_OK, 0, _("/v1/health: ok, sealdropd %s (this client %s)"),
		       version != NULL ? version : "?", SD_VERSION_STRING);
	else if (resp->status == 503)
		fix(result(d, "health", DOC_WARN, 0, _("the server is busy (HTTP 503)")),
		    _("try again in a minute; if it stays busy, tell your operator"));
	else
		fix(result(d, "health", DOC_FAIL, EX_UNAVAILABLE, _("/v1/health answered HTTP %d"), resp->status),
		    _("tell your operator: the server is not well"));
	json_decref(o);
}

static void check_server(doctor_t *d)
{
	cli_https_config_t cfg = {.url = d->o.server, .ca_file = d->o.ca, .timeout_ms = DOCTOR_TIMEOUT};
	cli_https_response_t resp;
	doc_result_t *r;
	int e;

	memset(&resp, 0, sizeof(resp));
	if (d->o.server == NULL || d->o.ca == NULL) {
		if (d->o.server == NULL)
			result(d, "server", DOC_SKIP, 0, _("no server (--server, or 'server' in the config file)"));
		else
			fix(result(d, "server", DOC_FAIL, EX_CONFIG, _("no CA file: the server cannot be checked")),
			    _("give --ca ca.pem (or 'ca' in the config file): the deployment's CA certificate"));
		result(d, "health", DOC_SKIP, 0, _("the server was not reached"));
		return;
	}
	if (d->cert_usable) {
		cfg.cert_file = d->o.cert;
		cfg.key_file = key_path(d);
	}
	sd_error_clear();
	if ((e = cli_https_ctx_new(&cfg, &d->ctx)) < 0 || (e = cli_https_conn_new(d->ctx, &d->conn)) < 0) {
		r = result(d, "server", DOC_FAIL, e == SD_ERR_USAGE ? EX_CONFIG : file_kind(e), "%s", why(e));
		fix(r, e == SD_ERR_USAGE ? _("the server's URL is https://HOST[:PORT]") : _("see the lines above"));
		result(d, "health", DOC_SKIP, 0, _("the server was not reached"));
		return;
	}
	if ((e = get(d, "/v1/health", &resp)) < 0) {
		server_unreached(d, e);
		result(d, "health", DOC_SKIP, 0, _("the server was not reached"));
	} else {
		d->reached = true;
		result(d, "server", DOC_OK, 0, _("%s: TLS 1.3, its certificate verified against %s"), d->o.server,
		       d->o.ca);
		check_health(d, &resp);
	}
	cli_https_response_free(&resp);
}

/* The same signed statement, not merely the same version number. */
static bool directory_same(const sd_directory_t *a, const sd_directory_t *b)
{
	bool same = sd_date_cmp(a->issued, b->issued) == 0 && sd_date_cmp(a->not_after, b->not_after) == 0 &&
	            a->test == b->test && a->has_log == b->has_log && a->n_agencies == b->n_agencies &&
	            (a->tls_ca_pem == NULL) == (b->tls_ca_pem == NULL) &&
	            sd_equal(a->intake.id, b->intake.id, SD_KEY_ID_BYTES) &&
	            sd_equal(a->identity.id, b->identity.id, SD_KEY_ID_BYTES) &&
	            (!a->has_log || sd_equal(a->log.id, b->log.id, SD_KEY_ID_BYTES));

	for (size_t i = 0; same && i < a->n_agencies; i++)
		same = strcmp(a->agencies[i].id, b->agencies[i].id) == 0 &&
		       sd_equal(a->agencies[i].key.id, b->agencies[i].key.id, SD_KEY_ID_BYTES);
	return same;
}

/* The server's verified directory against the local one. */
static void compare_directories(doctor_t *d)
{
	const sd_directory_t *s = d->srv_dir, *l = d->dir;
	const char *chk = "server-directory";
	char until[SD_DATE_TEXT_BYTES];

	date_text(s->not_after, until);
	if (days_between(d->today, s->not_after) < 0)
		fix(result(d, chk, DOC_FAIL, EX_DATAERR, _("the server's directory expired on %s"), until),
		    _("tell your operator: a new directory version must be installed (sealdropd directory install)"));
	else if (s->tls_ca_pem != NULL && cli_https_ca_matches(d->ctx, s->tls_ca_pem) < 0)
		fix(result(d, chk, DOC_FAIL, EX_DATAERR, _("--ca %s is not the TLS CA the server's directory lists"),
		           d->o.ca),
		    _("use the ca.pem of this deployment"));
	else if (l == NULL)
		result(d, chk, DOC_OK, 0, _("deployment %s, version %u, signed by your root key"), s->deployment,
		       s->version);
	else if (strcmp(s->deployment, l->deployment) != 0)
		fix(result(d, chk, DOC_FAIL, EX_DATAERR, _("the server serves deployment %s; your directory is of %s"),
		           s->deployment, l->deployment),
		    _("--server and --directory must be of one deployment"));
	else if (s->version > l->version)
		fix(result(d, chk, DOC_WARN, 0, _("the server has a newer version %u of the directory (yours is %u)"),
		           s->version, l->version),
		    _("save it: curl --cacert %s -o NEW.json %s/v1/directory; sealdrop directory verify NEW.json "
		      "--root "
		      "%s; then use NEW.json"),
		    d->o.ca, d->o.server, d->o.root);
	else if (s->version < l->version)
		fix(result(d, chk, DOC_FAIL, EX_DATAERR,
		           _("the server's directory is version %u, older than yours (%u)"), s->version, l->version),
		    _("tell your operator: the server may run from an old backup, or not be the deployment's server"));
	else if (!directory_same(s, l))
		fix(result(d, chk, DOC_FAIL, EX_DATAERR,
		           _("the server's directory is version %u like yours, but lists other keys or dates"),
		           s->version),
		    _("two directories were signed with one version number: ask your operator which is current"));
	else
		result(d, chk, DOC_OK, 0, _("the same as yours: deployment %s, version %u"), s->deployment, s->version);
}

static void check_server_directory(doctor_t *d)
{
	static const sd_date_t any_day = {1800, 1, 1};
	const char *chk = "server-directory";
	cli_https_response_t resp;
	char id[SD_KEY_ID_HEX_BYTES];
	int e;

	if (!d->reached || !d->has_root) {
		result(d, chk, DOC_SKIP, 0,
		       !d->reached ? _("the server was not reached")
		                   : _("no root key to verify the server's directory with"));
		return;
	}
	if ((e = get(d, "/v1/directory", &resp)) < 0 || resp.status != 200) {
		fix(result(d, chk, DOC_FAIL, EX_UNAVAILABLE, "%s",
		           e < 0 ? why(e) : _("the server did not give its directory")),
		    _("tell your operator"));
	} else if ((e = sd_directory_parse(resp.body, resp.body_len, &d->root, any_day, &d->srv_dir)) < 0) {
		sd_key_id_hex(d->root.id, id);
		if (e == SD_ERR_VERIFY)
			fix(result(d, chk, DOC_FAIL, EX_DATAERR,
			           _("the server's directory is not signed by your root key %s: the server belongs to "
			             "another "
			             "deployment, or --root is another deployment's"),
			           id),
			    _("--server, --ca, --root and --directory must all be of one deployment"));
		else
			fix(result(d, chk, DOC_FAIL, EX_DATAERR, _("the server's directory: %s"), why(e)),
			    _("tell your operator"));
	} else {
		compare_directories(d);
	}
	cli_https_response_free(&resp);
}

static void check_account(doctor_t *d)
{
	const char *chk = "account", *role = d->cert.role[0] != '\0' ? d->cert.role : "?";
	cli_https_response_t resp;
	int e;

	if (d->o.cert == NULL || !d->cert_usable || !d->reached) {
		result(d, chk, DOC_SKIP, 0,
		       d->o.cert == NULL ? _("no certificate (a whistleblower needs none)")
		       : !d->cert_usable ? _("the certificate cannot be used (see above)")
		                         : _("the server was not reached"));
		return;
	}
	if ((e = get(d, "/v1/cases", &resp)) < 0)
		fix(result(d, chk, DOC_FAIL, EX_UNAVAILABLE, "%s", why(e)),
		    _("try again; if it persists, tell your operator"));
	else if (resp.status == 200)
		result(d, chk, DOC_OK, 0, _("the server accepts your certificate (\"%s\", role %s)"), d->cert.cn, role);
	else if (resp.status == 403 && strcmp(resp.error, "role_forbidden") == 0)
		result(d, chk, DOC_OK, 0, _("the server accepts your certificate (\"%s\"); role %s may not list cases"),
		       d->cert.cn, role);
	else if (resp.status == 401 || resp.status == 403)
		fix(result(d, chk, DOC_FAIL, EX_NOPERM, _("your certificate is not accepted: \"%s\" (HTTP %d %s)"),
		           resp.message, resp.status, resp.error),
		    _("is the account disabled, or the certificate replaced? Ask your operator for a new one "
		      "(sealdropd enroll)"));
	else
		fix(result(d, chk, DOC_FAIL, EX_UNAVAILABLE, _("GET /v1/cases answered HTTP %d"), resp.status),
		    _("tell your operator"));
	cli_https_response_free(&resp);
}

/* --- the clock ----------------------------------------------------------------------------- */

/* The server's date (its log head's) against today here: the head is published on a
 * schedule (at most a day apart), so a head one day older than today is normal. */
static void clock_against(doctor_t *d, sd_date_t theirs, const char *whose)
{
	char here[SD_DATE_TEXT_BYTES], there[SD_DATE_TEXT_BYTES];
	int64_t ahead = days_between(d->today, theirs);

	date_text(d->today, here);
	date_text(theirs, there);
	if (ahead >= 2)
		fix(result(d, "clock", DOC_FAIL, EX_CONFIG,
		           _("%s is dated %s, but this computer's date is %s: your clock is %lld days behind"), whose,
		           there, here, (long long)ahead),
		    _("set the clock: %s (dates are Korea Standard Time)"), SET_CLOCK);
	else if (ahead == 1)
		fix(result(d, "clock", DOC_WARN, 0,
		           _("%s is dated %s, a day after this computer's date %s: your clock is behind, unless it "
		             "is just past midnight"),
		           whose, there, here),
		    _("set the clock: %s (dates are Korea Standard Time)"), SET_CLOCK);
	else if (ahead >= -1)
		result(d, "clock", DOC_OK, 0, _("this computer's date %s (Korea Standard Time) agrees with %s (%s)"),
		       here, whose, there);
	else
		fix(result(d, "clock", DOC_WARN, 0,
		           _("%s is dated %s, %lld days before this computer's date %s: your clock may be ahead, or "
		             "the "
		             "server has published nothing since"),
		           whose, there, (long long)-ahead, here),
		    _("check the date; set the clock: %s; if yours is right, tell your operator"), SET_CLOCK);
}

static void clock_from_head(doctor_t *d)
{
	const sd_directory_t *dir = d->srv_dir != NULL ? d->srv_dir : d->dir;
	cli_https_response_t resp;
	sd_loghead_t h;
	int e;

	memset(&resp, 0, sizeof(resp));
	if (dir == NULL || !dir->has_log) {
		result(d, "clock", DOC_SKIP, 0,
		       _("no verified directory with a log key to check the server's date with"));
		return;
	}
	if ((e = get(d, "/v1/log/head", &resp)) < 0 || resp.status != 200) {
		if (e == 0 && cli_log_is_no_head(&resp))
			result(d, "clock", DOC_SKIP, 0, _("the server has published no log head yet"));
		else
			fix(result(d, "clock", DOC_WARN, 0, _("cannot read the server's log head: %s"),
			           e < 0 ? why(e) : resp.message),
			    _("try again; if it persists, tell your operator"));
	} else if ((e = sd_loghead_verify_with_directory(resp.body, resp.body_len, dir, &h)) < 0) {
		fix(result(d, "clock", DOC_FAIL, EX_DATAERR, _("the server's log head does not verify: %s"), why(e)),
		    _("tell your operator"));
	} else {
		clock_against(d, h.date, _("the server's latest signed log head"));
	}
	cli_https_response_free(&resp);
}

static void check_clock(doctor_t *d)
{
	char here[SD_DATE_TEXT_BYTES];

	date_text(d->today, here);
	if (d->tls_clock_behind)
		fix(result(d, "clock", DOC_FAIL, EX_CONFIG,
		           _("your clock is behind: the server's certificate is not valid yet by it (your date: %s)"),
		           here),
		    _("set the clock: %s"), SET_CLOCK);
	else if (d->reached)
		clock_from_head(d);
	else if (d->dir != NULL && days_between(d->today, d->dir->issued) >= 1)
		clock_against(d, d->dir->issued, _("your directory"));
	else
		result(d, "clock", DOC_SKIP, 0,
		       _("no server to compare dates with (this computer's date: %s, Korea Standard Time)"), here);
}

/* --- output --------------------------------------------------------------------------------- */

static const char *status_word(doc_status_t s, bool json)
{
	static const char *const words[] = {"ok", "warning", "fail", "skipped"};

	if (json)
		return words[s];
	return s == DOC_OK ? _("ok") : s == DOC_WARN ? _("warning") : s == DOC_FAIL ? _("FAIL") : _("skipped");
}

/* The exit status: the worst FAIL's kind, configuration first, the network last. */
static int exit_status(const doctor_t *d)
{
	static const int order[] = {EX_CONFIG, EX_NOINPUT, EX_DATAERR, EX_NOPERM, EX_UNAVAILABLE};

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (size_t i = 0; i < d->n; i++)
			if (d->res[i].status == DOC_FAIL && d->res[i].exit == order[k])
				return order[k];
	return 0;
}

static int print_json(const doctor_t *d, const size_t count[4], int status)
{
	json_t *checks = json_array();

	for (size_t i = 0; checks != NULL && i < d->n; i++) {
		const doc_result_t *r = &d->res[i];
		if (json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:s?}", "check", r->check, "status",
		                                            status_word(r->status, true), "detail", r->detail, "fix",
		                                            r->fix[0] != '\0' ? r->fix : NULL)) != 0) {
			json_decref(checks);
			checks = NULL;
		}
	}
	return cli_json_print(json_pack("{s:o, s:I, s:I, s:I, s:I, s:i}", "checks", checks, "ok",
	                                (json_int_t)count[DOC_OK], "warnings", (json_int_t)count[DOC_WARN], "failed",
	                                (json_int_t)count[DOC_FAIL], "skipped", (json_int_t)count[DOC_SKIP], "exit",
	                                status));
}

static void print_text(const doctor_t *d, const size_t count[4])
{
	for (size_t i = 0; i < d->n; i++) {
		const doc_result_t *r = &d->res[i];
		printf("%-8s %-18s %s", status_word(r->status, false), r->check, r->detail);
		if (r->fix[0] != '\0')
			printf(_(" -- fix: %s"), r->fix);
		putchar('\n');
	}
	printf(_("%zu checks: %zu ok, %zu warnings, %zu failed, %zu skipped\n"), d->n, count[DOC_OK], count[DOC_WARN],
	       count[DOC_FAIL], count[DOC_SKIP]);
}

static int doctor_report(const doctor_t *d)
{
	size_t count[4] = {0, 0, 0, 0}, first = 0;
	int status = exit_status(d), r = 0;

	for (size_t i = d->n; i-- > 0;) {
		count[d->res[i].status]++;
		if (d->res[i].status == DOC_FAIL)
			first = i;
	}
	if (d->json)
		r = print_json(d, count, status);
	else
		print_text(d, count);
	if (r < 0)
		return cli_fail(cmd_doctor_def.name, r);
	if (status != 0)
		fprintf(stderr, _("sealdrop: doctor: %zu of %zu checks failed, first '%s': fix the FAIL lines\n"),
		        count[DOC_FAIL], d->n, d->res[first].check);
	return status;
}

/* --- the command -------------------------------------------------------------------------- */

static int doctor_run(doctor_t *d)
{
	d->now = (int64_t)time(NULL);
	d->today = sd_date_today();
	check_config(d);
	check_locale(d);
	check_root(d);
	check_directory(d);
	check_directory_dates(d);
	check_ca(d);
	check_ca_directory(d);
	check_key(d);
	check_cert(d);
	check_cert_pair(d);
	check_server(d);
	check_server_directory(d);
	check_account(d);
	check_clock(d);
	return doctor_report(d);
}

/* --config FILE names the file before cli_getopt() runs, which reads the config file
 * already (its socks5 setting) for every command that talks to a server. */
static int config_option_early(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *v = strncmp(argv[i], "--config=", 9) == 0              ? argv[i] + 9
		                : strcmp(argv[i], "--config") == 0 && i + 1 < argc ? argv[i + 1]
		                                                                   : NULL;
		if (v != NULL && setenv("SEALDROP_CONFIG", v, 1) != 0)
			return sd_error(SD_ERR_NOMEM, "%s", strerror(errno));
	}
	return 0;
}

int cmd_doctor(int argc, char **argv)
{
	doctor_t *d = calloc(1, sizeof(*d));
	int r;

	if (d == NULL)
		return cli_fail(cmd_doctor_def.name, SD_ERR_NOMEM);
	const cli_opt_t opts[] = {
	        {"server", OPT_SERVER, .value = &d->o.server},
	        {"ca", OPT_CA, .value = &d->o.ca},
	        {"cert", OPT_CERT, .value = &d->o.cert},
	        {"key", OPT_KEY, .value = &d->o.key},
	        {"directory", OPT_DIRECTORY, .value = &d->dir_path},
	        {"root", OPT_ROOT, .value = &d->o.root},
	        {"config", OPT_CONFIG, .value = &d->config_path},
	        {"json", OPT_JSON, .flag = &d->json},
	        {0},
	};
	if ((r = config_option_early(argc, argv)) < 0) {
		r = cli_fail(cmd_doctor_def.name, r);
		goto out;
	}
	if ((r = cli_getopt(&cmd_doctor_def, argc, argv, opts)) >= 0)
		goto out;
	if (optind < argc) {
		r = cli_usage_error(&cmd_doctor_def, _("unexpected argument '%s'"), argv[optind]);
		goto out;
	}
	r = doctor_run(d);
out:
	cli_https_conn_free(d->conn);
	cli_https_ctx_free(d->ctx);
	sd_directory_free(d->dir);
	sd_directory_free(d->srv_dir);
	cli_config_free(&d->cfg);
	free(d);
	return r;
}
