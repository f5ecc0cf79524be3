/*
 * cmd_keygen.c — `sealdrop keygen`: a new key pair, as a passphrase-protected secret key
 * file (0600, never overwritten) and a public key text file beside it (FILE.pub). The
 * formats are crypto/keys.c's; this file only asks, checks and reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealdrop/keys.h"
#include "sealdrop/sealdrop.h"
#include "cli.h"

static const cli_cmd_t cmd = {
        "keygen",
        N_("usage: sealdrop keygen --kind root|intake|identity|agency|attorney|log --out FILE\n"
           "                       [--passphrase-file F] [--kdf interactive|moderate|sensitive] [--json]\n"),
        N_("\n"
           "Creates a key pair: FILE, the secret key encrypted under a passphrase (Argon2id and\n"
           "XChaCha20-Poly1305, mode 0600), and FILE.pub, the public key as one line of text.\n"
           "Neither file is ever overwritten.\n"
           "\n"
           "  --kind KIND             root (signs the directory), intake (opens reports), identity\n"
           "                          (opens the Commission's identity share), agency, attorney, log\n"
           "  --out FILE              the secret key file; the public key goes to FILE.pub\n"
           "  --passphrase-file F     read the passphrase from F instead of asking twice on the\n"
           "                          terminal. RISK: the passphrase then sits in a file that can be\n"
           "                          copied or seized; use only for tests and automation\n"
           "  --kdf LEVEL             Argon2id cost: interactive, moderate (default), sensitive\n"
           "  --json                  print the result as one JSON object\n"
           "  -h, --help              this help\n"),
};

enum { OPT_KIND = 256, OPT_OUT, OPT_PASSFILE, OPT_KDF, OPT_JSON };

typedef struct {
	const char *kind, *out, *passfile, *kdf;
	bool json;
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
	sd_error_clear();
	if ((r = generate(&a, kind, &limits)) < 0)
		return cli_fail(cmd.name, r);
	return 0;
}
