/*
 * fuzz_csr.c — libFuzzer target for what `enroll` will take from a user: a certificate
 * signing request (PEM or DER), and the certificate parsers beside it.
 *
 * Every input goes to sd_ca_csr_check (in fuzzing builds the CSR's signature is not
 * checked, so mutated requests reach the key and issuance code), to
 * sd_ca_cert_from_pem and to sd_ca_fingerprint. A CSR that passes must also be
 * issuable: a certificate is made from it by a throwaway CA, and that certificate must
 * verify as a client of the same CA with the fingerprint issuance reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "sealdrop/error.h"
#include "sealdrop/ca.h"
#include "sealdrop/sealdrop.h"

static char dir[] = "/tmp/sd-fuzz-csr-XXXXXX";
static sd_ca_t *ca;

static void remove_ca(void)
{
	char p[sizeof(dir) + 16];

	sd_ca_free(ca);
	snprintf(p, sizeof(p), "%s/%s", dir, SD_CA_CERT_FILE);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s", dir, SD_CA_KEY_FILE);
	unlink(p);
	rmdir(dir);
}

static sd_ca_t *fuzz_ca(void)
{
	if (ca != NULL)
		return ca;
	if (mkdtemp(dir) == NULL || sd_ca_create(dir, "fuzz CA", 30) != 0 || sd_ca_load(dir, &ca) != 0)
		abort();
	atexit(remove_ca);
	return ca;
}

/* A CSR that passed the check must become a certificate that verifies as ours. */
static void fuzz_issue(const uint8_t *data, size_t size)
{
	sd_ca_cert_info_t issued, seen;
	char *cert = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;

	if (sd_ca_issue_client(fuzz_ca(), "attorney", "Fuzz", data, size, 30, "https://localhost/v1/crl", &cert, NULL,
	                       &issued) != 0)
		abort();
	if (sd_ca_cert_from_pem(cert, strlen(cert), &der, &der_len) != 0 ||
	    sd_ca_verify_client(ca, der, der_len, NULL, 0, (int64_t)time(NULL), &seen) != 0 ||
	    !sd_equal(seen.fingerprint, issued.fingerprint, SD_CA_FINGERPRINT_BYTES) ||
	    !sd_equal(seen.serial, issued.serial, SD_CA_SERIAL_BYTES))
		abort();
	free(der);
	free(cert);
}

static void fuzz_certificate(const uint8_t *data, size_t size)
{
	uint8_t fp[SD_CA_FINGERPRINT_BYTES], fp2[SD_CA_FINGERPRINT_BYTES];
	uint8_t *der = NULL;
	size_t der_len = 0;
	char *text = malloc(size + 1);

	if (text == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sd_ca_cert_from_pem(text, size, &der, &der_len) == 0) {
		/* What the PEM parser hands out is exactly one DER certificate. */
		if (sd_ca_fingerprint(der, der_len, fp) != 0 || sd_ca_fingerprint(der, der_len, fp2) != 0 ||
		    !sd_equal(fp, fp2, sizeof(fp)))
			abort();
		free(der);
	} else if (der != NULL) {
		abort();
	}
	free(text);
	if (sd_ca_fingerprint(data, size, fp) != 0)
		sd_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sd_ca_key_type_t type = 0;

	if (sd_ca_csr_check(data, size, &type) == 0) {
		if (type != SD_CA_KEY_P256 && type != SD_CA_KEY_ED25519)
			abort();
		fuzz_issue(data, size);
	}
	fuzz_certificate(data, size);
	return 0;
}
