/*
 * sd-forge-notice.c — a TEST TOOL, never part of sealdrop or sealdropd: writes a notice
 * document (docs/FORMAT.md, "Notice") for a case, so tests/e2e/status.sh can put a notice
 * the server never issued into a stopped server's store (with sd-lmdb) and check that
 * `sealdrop status` refuses it. Start at main().
 *
 *   sd-forge-notice LOGKEY|random CASE SEQ DATE DEPLOYMENT NOTICE_PK_HEX INTAKE.pub TEXTFILE OUT
 *
 * LOGKEY is the server's service key file (DIR/log.key, crypto/servicekey.c): the notice
 * is properly signed, though no audit leaf records it. `random` signs it with a fresh
 * key, so its signature cannot verify with the directory's log key. The text is sealed
 * to NOTICE_PK_HEX (the whistleblower's notice key: 64 hex digits) and to the intake
 * public key file; the kind is `written`. The notice is written to OUT, and its key in
 * the store's "notices" database (case number || seq, u32 big-endian) and the notice's
 * bytes are printed in hex on stdout, one line each, for `sd-lmdb DIR put notices`.
 * Exit status 0, or 1 with a message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealdrop/bytes.h"
#include "sealdrop/date.h"
#include "sealdrop/fileio.h"
#include "sealdrop/keys.h"
#include "sealdrop/notice.h"
#include "sealdrop/notices.h"
#include "sealdrop/receipt.h"
#include "sealdrop/sealdrop.h"
#include "sealdrop/servicekey.h"

static const char usage[] = "usage: sd-forge-notice LOGKEY|random CASE SEQ DATE DEPLOYMENT NOTICE_PK_HEX "
                            "INTAKE.pub TEXTFILE OUT\n";

static int fail(const char *what)
{
	fprintf(stderr, "sd-forge-notice: %s: %s\n", what, sd_error_detail());
	return 1;
}

/* The notice's fields from argv; the text sealed to both readers. */
static int build(char **argv, sd_notice_t *n)
{
	uint8_t notice_pk[32];
	sd_pubkey_t intake;
	uint8_t *text = NULL;
	size_t len = 0;
	char *t;
	int r;

	n->version = SD_NOTICE_VERSION;
	snprintf(n->case_number, sizeof(n->case_number), "%s", argv[2]);
	n->seq = (uint32_t)strtoul(argv[3], NULL, 10);
	n->kind = SD_NOTICE_WRITTEN;
	snprintf(n->deployment, sizeof(n->deployment), "%s", argv[5]);
	if (!sd_case_number_is_valid(n->case_number) || sd_date_parse(argv[4], &n->date) < 0 || strlen(argv[6]) != 64 ||
	    sd_hex_decode(argv[6], notice_pk, sizeof(notice_pk)) < 0) {
		fputs("sd-forge-notice: bad CASE, DATE or NOTICE_PK_HEX\n", stderr);
		return 1;
	}
	if (sd_pubkey_read(argv[7], &intake) < 0)
		return fail(argv[7]);
	if (sd_file_read(argv[8], SD_NOTICE_TEXT_MAX, &text, &len) < 0)
		return fail(argv[8]);
	if ((t = calloc(1, len + 1)) == NULL)
		return 1;
	memcpy(t, text, len);
	free(text);
	r = sd_notice_seal(n, t, notice_pk, NULL, &intake);
	free(t);
	return r < 0 ? fail("sealing") : 0;
}

/* The log key from its file, or a fresh one. */
static int signer(const char *arg, sd_seckey_t **k)
{
	if (strcmp(arg, "random") == 0)
		return sd_seckey_generate(SD_KEY_LOG, k) < 0 ? fail("generating a key") : 0;
	return sd_servicekey_read(arg, SD_KEY_LOG, k) < 0 ? fail(arg) : 0;
}

static void print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('\n');
}

int main(int argc, char **argv)
{
	uint8_t key[SD_NOTICES_KEY_BYTES];
	sd_notice_t n = {0};
	sd_seckey_t *k = NULL;
	char *json = NULL;
	int st = 1;

	if (argc != 10) {
		fputs(usage, stderr);
		return 1;
	}
	if (sd_init() < 0)
		return fail("sd_init");
	if (build(argv, &n) != 0 || signer(argv[1], &k) != 0)
		goto out;
	if (sd_notice_sign(&n, k, &json) < 0) {
		fail("signing");
		goto out;
	}
	if (sd_file_write(argv[9], (const uint8_t *)json, strlen(json), 0644, SD_AFILE_REPLACE) < 0) {
		fail(argv[9]);
		goto out;
	}
	sd_notices_key(n.case_number, n.seq, key);
	print_hex(key, sizeof(key));
	print_hex((const uint8_t *)json, strlen(json));
	st = 0;
out:
	free(json);
	sd_seckey_free(k);
	sd_notice_clear(&n);
	return st;
}
