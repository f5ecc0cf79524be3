/*
 * cmd_keygen.c — `sealdrop keygen`: a new key pair, as a passphrase-protected secret key
 * file (0600, never overwritten) and a public key text file beside it (FILE.pub). The
 * formats are crypto/keys.c's; this file only asks, checks and reports.
 *
 * With --split K/N (identity keys only) the secret key is never written whole: it is split
 * in memory into N passphrase-protected share files (crypto/keyshare.c), one per custodian,
 * any K of which rebuild it. Start at generate_split().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealdrop/keys.h"
#include "sealdrop/keyshare.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"

static const cli_cmd_t cmd = {
        "keygen",
        N_("usage: sealdrop keygen --kind root|intake|identity|agency|attorney|log --out FILE\n"
           "                       [--passphrase-file F] [--kdf interactive|moderate|sensitive] [--json]\n"
           "       sealdrop keygen --kind identity --split K/N --out PREFIX\n"
           "                       [--passphrase-file F] [--kdf interactive|moderate|sensitive] [--json]\n"),
        N_("\n"
           "Creates a key pair: FILE, the secret key encrypted under a passphrase (Argon2id and\n"
           "XChaCha20-Poly1305, mode 0600), and FILE.pub, the public key as one line of text.\n"
           "Neither file is ever overwritten.\n"
           "\n"
           "  --kind KIND             root (signs the directory), intake (opens reports), identity\n"
           "                          (opens the Commission's identity share), agency, attorney, log\n"
           "  --out FILE              the secret key file; the public key goes to FILE.pub\n"
           "  --split K/N             identity keys only: never write the secret key whole, but split\n"
           "                          it into N shares, PREFIX.share1 ... PREFIX.shareN, any K of\n"
           "                          which rebuild it (2 <= K <= N <= 255); PREFIX.pub as usual.\n"
           "                          Each share is asked its own passphrase, for its custodian\n"
           "  --passphrase-file F     read the passphrase from F instead of asking twice on the\n"
           "                          terminal. RISK: the passphrase then sits in a file that can be\n"
           "                          copied or seized; use only for tests and automation. With\n"
           "                          --split, the one file protects every share: a real ceremony\n"
           "                          lets each custodian type their own passphrase instead\n"
           "  --kdf LEVEL             Argon2id cost: interactive, moderate (default), sensitive\n"
           "  --json                  print the result as one JSON object\n"
           "  -h, --help              this help\n"),
};

enum { OPT_KIND = 256, OPT_OUT, OPT_PASSFILE, OPT_KDF, OPT_JSON, OPT_SPLIT };

typedef struct {
	const char *kind, *out, *passfile, *kdf, *split;
	bool json;
	unsigned k, n; /* --split K/N */
} keygen_args_t;

static int kdf_from_name(const char *name, sd_kdf_limits_t *out)
{
	if (strcmp(name, "interactive") == 0)
		*out = sd_kdf_interactive();
	else if (strcmp(name, "moderate") == 0)
		*out = sd_kdf_moderate();
	else if (strcmp(name, "sensitive") == 0)
		*out = sd_kdf_sensitive();
	else
		return -1;
	return 0;
}

static int report(const keygen_args_t *a, const sd_pubkey_t *pub, const char *pubpath)
{
	char id[SD_KEY_ID_HEX_BYTES];

	sd_key_id_hex(pub->id, id);
	if (a->json)
		return cli_json_print(json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", sd_key_kind_name(pub->kind),
		                                "key_id", id, "secret_key", a->out, "public_key", pubpath, "kdf",
		                                a->kdf));
	printf(_("created %s key %s\n"), sd_key_kind_name(pub->kind), id);
	printf(_("  secret key  %s (passphrase-protected, Argon2id %s, mode 0600)\n"), a->out, a->kdf);
	printf(_("  public key  %s\n"), pubpath);
	return 0;
}

static int generate(const keygen_args_t *a, sd_key_kind_t kind, const sd_kdf_limits_t *limits)
{
	sd_seckey_t *key = NULL;
	sd_pubkey_t pub;
	char *pass = NULL, *pubpath = NULL;
	size_t passlen = 0;
	bool wrote_secret = false;
	int r;

	if (asprintf(&pubpath, "%s.pub", a->out) < 0) {
		pubpath = NULL;
		r = SD_ERR_NOMEM;
		goto out;
	}
	/* Both names are checked before the passphrase is asked, so nothing is half made. */
	if ((r = cli_check_absent(a->out)) < 0 || (r = cli_check_absent(pubpath)) < 0)
		goto out;
	if ((r = cli_passphrase_new(a->passfile, &pass, &passlen)) < 0)
		goto out;
	if ((r = sd_seckey_generate(kind, &key)) < 0)
		goto out;
	if ((r = sd_keyfile_write(a->out, key, pass, passlen, limits)) < 0)
		goto out;
	wrote_secret = true;
	sd_seckey_public(key, &pub);
	if ((r = sd_pubkey_write(pubpath, &pub)) < 0)
		goto out;
	r = report(a, &pub, pubpath);
out:
	if (r < 0 && wrote_secret)
		unlink(a->out);
	sd_secret_free(pass);
	sd_seckey_free(key);
	free(pubpath);
	return r;
}

/* --- --split K/N: an identity key as N custodians' shares ------------------------- */

/* "K/N": two decimal numbers and a slash, nothing else. 0, or -1. */
static int split_parse(const char *text, unsigned *k, unsigned *n)
{
	unsigned long kk, nn;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	kk = strtoul(text, &end, 10);
	if (*end != '/' || end[1] < '0' || end[1] > '9' || kk > 1000)
		return -1;
	nn = strtoul(end + 1, &end, 10);
	if (*end != '\0' || nn > 1000)
		return -1;
	*k = (unsigned)kk;
	*n = (unsigned)nn;
	return 0;
}

/* Refuses what --split cannot do, before anything is asked or made: 0, or 64. */
static int split_check(keygen_args_t *a, sd_key_kind_t kind)
{
	if (kind != SD_KEY_IDENTITY)
		return cli_usage_error(&cmd, _("--split splits identity keys only, not %s keys"),
		                       sd_key_kind_name(kind));
	if (split_parse(a->split, &a->k, &a->n) < 0)
		return cli_usage_error(&cmd, _("--split takes K/N, two numbers such as 3/5, not '%s'"), a->split);
	if (a->k < SD_SHAMIR_MIN_K)
		return cli_usage_error(&cmd, _("--split %s: K must be at least 2 (one share alone would be the key)"),
		                       a->split);
	if (a->n > SD_SHAMIR_MAX_N)
		return cli_usage_error(&cmd, _("--split %s: at most 255 shares"), a->split);
	if (a->k > a->n)
		return cli_usage_error(&cmd, _("--split %s: K cannot be more than N"), a->split);
	return 0;
}

typedef struct {
	char *pub;
	char *share[SD_SHAMIR_MAX_N];
	unsigned written; /* share files written so far */
	bool wrote_pub;
} split_files_t;

/* PREFIX.pub and PREFIX.share1 ... PREFIX.shareN, all checked absent. */
static int split_names(const keygen_args_t *a, split_files_t *f)
{
	int r;

	if (asprintf(&f->pub, "%s.pub", a->out) < 0) {
		f->pub = NULL;
		return SD_ERR_NOMEM;
	}
	if ((r = cli_check_absent(f->pub)) < 0)
		return r;
	for (unsigned i = 0; i < a->n; i++) {
		if (asprintf(&f->share[i], "%s.share%u", a->out, i + 1) < 0) {
			f->share[i] = NULL;
			return SD_ERR_NOMEM;
		}
		if ((r = cli_check_absent(f->share[i])) < 0)
			return r;
	}
	return 0;
}

/* On failure, removes what was written, so no half set of shares is left behind. */
static void split_files_free(split_files_t *f, bool failed)
{
	for (unsigned i = 0; i < SD_SHAMIR_MAX_N; i++) {
		if (failed && i < f->written)
			unlink(f->share[i]);
		free(f->share[i]);
	}
	if (failed && f->wrote_pub)
		unlink(f->pub);
	free(f->pub);
}

static int read_hidden(int tty, const char *prompt, char **out, size_t *len)
{
	char *buf = sd_secret_alloc(CLI_PASSPHRASE_MAX);
	int r;

	*out = NULL;
	if (buf == NULL)
		return SD_ERR_NOMEM;
	r = cli_tty_read_hidden(tty, prompt, buf, CLI_PASSPHRASE_MAX, len);
	if (r == 0 && *len == 0)
		r = sd_error(SD_ERR_USAGE, _("the passphrase is empty"));
	if (r < 0) {
		sd_secret_free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

/* Share i's new passphrase, asked twice on the terminal: its custodian types it. */
static int share_passphrase(int tty, const keygen_args_t *a, unsigned i, const char *path, char **out, size_t *len)
{
	char prompt[512], *again = NULL;
	size_t n2 = 0;
	int r;

	snprintf(prompt, sizeof(prompt), _("Passphrase for share %u of %u (%s), for its custodian alone: "), i + 1,
	         a->n, path);
	if ((r = read_hidden(tty, prompt, out, len)) < 0)
		return r;
	if ((r = read_hidden(tty, _("Again: "), &again, &n2)) == 0 && (n2 != *len || !sd_equal(*out, again, n2)))
		r = sd_error(SD_ERR_USAGE, _("the two passphrases for share %u differ; no share was kept"), i + 1);
	sd_secret_free(again);
	if (r < 0) {
		sd_secret_free(*out);
		*out = NULL;
	}
	return r;
}

/* The one --passphrase-file for every share, or the terminal to ask each custodian on. */
static int split_pass_source(const keygen_args_t *a, int *tty, char **filepass, size_t *len)
{
	if (a->passfile != NULL) {
		cli_warn(cmd.name, _("every share is protected by the same passphrase (--passphrase-file); in a real "
		                     "key ceremony each custodian types their own"));
		return cli_passphrase_new(a->passfile, filepass, len);
	}
	if ((*tty = cli_tty_open()) < 0)
		return sd_error(SD_ERR_USAGE,
		                _("no terminal to ask the share passphrases on; use --passphrase-file FILE"));
	return 0;
}

static int split_write_all(const keygen_args_t *a, int tty, const char *filepass, size_t filepasslen,
                           const sd_keyshare_t *shares, const sd_kdf_limits_t *limits, split_files_t *f)
{
	char *pass = NULL;
	size_t passlen = 0;
	int r = 0;

	for (unsigned i = 0; i < a->n && r == 0; i++) {
		if (filepass == NULL && (r = share_passphrase(tty, a, i, f->share[i], &pass, &passlen)) < 0)
			break;
		r = sd_keyshare_write(f->share[i], &shares[i], filepass ? filepass : pass,
		                      filepass ? filepasslen : passlen, limits);
		sd_secret_free(pass);
		pass = NULL;
		if (r == 0)
			f->written++;
	}
	return r;
}

static int report_split(const keygen_args_t *a, const sd_pubkey_t *pub, const split_files_t *f)
{
	char id[SD_KEY_ID_HEX_BYTES];
	json_t *paths;

	sd_key_id_hex(pub->id, id);
	if (a->json) {
		if ((paths = json_array()) == NULL)
			return SD_ERR_NOMEM;
		for (unsigned i = 0; i < a->n; i++)
			if (json_array_append_new(paths, json_string(f->share[i])) < 0) {
				json_decref(paths);
				return SD_ERR_NOMEM;
			}
		return cli_json_print(json_pack("{s:s, s:s, s:I, s:I, s:o, s:s, s:s}", "kind", "identity", "key_id", id,
		                                "k", (json_int_t)a->k, "n", (json_int_t)a->n, "shares", paths,
		                                "public_key", f->pub, "kdf", a->kdf));
	}
	printf(_("created identity key %s, split into %u shares, any %u of which rebuild it\n"), id, a->n, a->k);
	printf(_("  (the whole secret key was never written to disk)\n"));
	for (unsigned i = 0; i < a->n; i++)
		printf(_("  share %-3u   %s (passphrase-protected, Argon2id %s, mode 0600)\n"), i + 1, f->share[i],
		       a->kdf);
	printf(_("  public key  %s\n"), f->pub);
	return 0;
}

static int generate_split(const keygen_args_t *a, const sd_kdf_limits_t *limits)
{
	split_files_t f = {0};
	sd_seckey_t *key = NULL;
	sd_keyshare_t *shares = NULL;
	sd_pubkey_t pub;
	char *filepass = NULL;
	size_t filepasslen = 0;
	int tty = -1, r;

	/* Every name is checked before anything is asked, so nothing is half made. */
	if ((r = split_names(a, &f)) < 0 || (r = split_pass_source(a, &tty, &filepass, &filepasslen)) < 0)
		goto out;
	if ((r = sd_seckey_generate(SD_KEY_IDENTITY, &key)) < 0 ||
	    (r = sd_keyshare_split(key, a->k, a->n, &shares)) < 0)
		goto out;
	sd_seckey_public(key, &pub);
	sd_seckey_free(key); /* from here on only the shares exist */
	if ((r = split_write_all(a, tty, filepass, filepasslen, shares, limits, &f)) < 0)
		goto out;
	if ((r = sd_pubkey_write(f.pub, &pub)) < 0)
		goto out;
	f.wrote_pub = true;
	r = report_split(a, &pub, &f);
out:
	if (tty >= 0)
		close(tty);
	sd_secret_free(filepass);
	sd_keyshare_free(shares);
	sd_seckey_free(key);
	split_files_free(&f, r < 0);
	return r;
}

int cmd_keygen(int argc, char **argv)
{
	keygen_args_t a = {.kdf = "moderate"};
	sd_key_kind_t kind;
	sd_kdf_limits_t limits;
	const cli_opt_t opts[] = {
	        {"kind", OPT_KIND, .value = &a.kind},
	        {"out", OPT_OUT, .value = &a.out},
	        {"passphrase-file", OPT_PASSFILE, .value = &a.passfile},
	        {"kdf", OPT_KDF, .value = &a.kdf},
	        {"json", OPT_JSON, .flag = &a.json},
	        {"split", OPT_SPLIT, .value = &a.split},
	        {0},
	};
	int r;

	if ((r = cli_getopt(&cmd, argc, argv, opts)) >= 0)
		return r;
	if (optind < argc)
		return cli_usage_error(&cmd, _("unexpected argument '%s'"), argv[optind]);
	if (a.kind == NULL)
		return cli_usage_error(&cmd, _("missing --kind"));
	if (a.out == NULL)
		return cli_usage_error(&cmd, _("missing --out"));
	if (sd_key_kind_from_name(a.kind, &kind) < 0)
		return cli_usage_error(&cmd, _("unknown key kind '%s'"), a.kind);
	if (kdf_from_name(a.kdf, &limits) < 0)
		return cli_usage_error(&cmd, _("unknown --kdf level '%s'"), a.kdf);
	if (a.split != NULL && (r = split_check(&a, kind)) != 0)
		return r;
	sd_error_clear();
	if (a.split != NULL)
		r = generate_split(&a, &limits);
	else
		r = generate(&a, kind, &limits);
	if (r < 0)
		return cli_fail(cmd.name, r);
	return 0;
}
