/*
 * ca.h — sealdropd's certificate authority: the TLS CA, the server certificate, the
 * client certificates that identify attorneys, officers, custodians and operators, and
 * the CRL disabled accounts land in (DESIGN.md, Keys, Server API, Security posture).
 *
 * Every key is ECDSA P-256 and every signature ECDSA-with-SHA256. A client certificate
 * is issued either for a key the CA generates (the convenience path of `enroll --out`)
 * or from the user's own CSR, so the private key never exists on the server; from a CSR
 * the CA takes only the public key (P-256 or Ed25519) and decides everything else.
 * Leaf certificates are valid at most SD_CA_LEAF_MAX_DAYS and name a CRL distribution
 * point. A client is identified by the SHA-256 of its DER certificate (the fingerprint
 * the server maps to an account); its role is the certificate's OU.
 *
 * No OpenSSL type crosses this header: certificates go in and out as DER or PEM bytes.
 * An sd_ca_t may be used by one thread at a time.
 */
#ifndef SEALDROP_CA_H
#define SEALDROP_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sealdrop/error.h"

#define SD_CA_CERT_FILE         "ca.pem" /* in the CA's directory, 0644 */
#define SD_CA_KEY_FILE          "ca.key" /* PKCS#8 PEM, 0600, never overwritten */
#define SD_CA_FINGERPRINT_BYTES 32       /* SHA-256 of the DER certificate */
#define SD_CA_SERIAL_BYTES      16       /* random, positive, big-endian */
#define SD_CA_ROLE_BYTES        16       /* longest role name + NUL */
#define SD_CA_NAME_MAX          64       /* bytes of a CN (RFC 5280 ub-common-name) */
#define SD_CA_NAME_BYTES        (SD_CA_NAME_MAX + 1)
#define SD_CA_LEAF_MAX_DAYS     398  /* server and client certificates */
#define SD_CA_ROOT_MAX_DAYS     3650 /* the CA itself */
#define SD_CA_CRL_MAX_DAYS      366  /* a CRL's nextUpdate */
#define SD_CA_HOSTNAMES_MAX     32   /* subjectAltName entries of a server certificate */
#define SD_CA_URL_MAX           1024 /* the CRL distribution point */
#define SD_CA_CSR_MAX_BYTES     16384
#define SD_CA_CERT_MAX_BYTES    16384

typedef struct sd_ca sd_ca_t;

typedef enum { SD_CA_KEY_P256 = 1, SD_CA_KEY_ED25519 = 2 } sd_ca_key_type_t;

/* What the CA put into (or found in) a leaf certificate. Times are seconds since the
 * epoch. name and role are "" for a server certificate. */
typedef struct {
	uint8_t fingerprint[SD_CA_FINGERPRINT_BYTES];
	uint8_t serial[SD_CA_SERIAL_BYTES];
	char role[SD_CA_ROLE_BYTES];
	char name[SD_CA_NAME_BYTES];
	int64_t not_before;
	int64_t not_after;
} sd_ca_cert_info_t;

/* One entry of a CRL: the serial of a revoked certificate and when it was revoked. */
typedef struct {
	uint8_t serial[SD_CA_SERIAL_BYTES];
	int64_t revoked_at;
} sd_ca_revoked_t;

/* A name the CA puts in a CN: 1..SD_CA_NAME_MAX bytes of UTF-8, no control characters
 * (C0, DEL, C1), no space at either end. Account names follow the same rule. */
bool sd_ca_name_is_valid(const char *name);

/* "attorney", "officer", "custodian" or "operator". */
bool sd_ca_role_is_valid(const char *role);

/* Creates DIR/ca.key and DIR/ca.pem: a self-signed CA named `name` (CN), valid `days`
 * (1..SD_CA_ROOT_MAX_DAYS). DIR must exist. SD_ERR_EXISTS, and nothing written, if
 * either file is already there. */
int sd_ca_create(const char *dir, const char *name, int days) SD_WUR;

/* Loads DIR/ca.pem and DIR/ca.key and checks they belong together and form a CA.
 * SD_ERR_REFUSED if ca.key is readable or writable by group or others. */
int sd_ca_load(const char *dir, sd_ca_t **out) SD_WUR;
void sd_ca_free_(sd_ca_t *ca);
#define sd_ca_free(ca)                                                                                                 \
	do {                                                                                                           \
		sd_ca_free_(ca);                                                                                       \
		(ca) = NULL;                                                                                           \
	} while (0)

/* The CA certificate, PEM, NUL-terminated; owned by ca. */
const char *sd_ca_cert_pem(const sd_ca_t *ca);

/* A server certificate and a new P-256 key, written to cert_path (0644) and key_path
 * (0600); neither is ever overwritten (SD_ERR_EXISTS). Each hostname becomes a
 * subjectAltName: an IP address when it is an IPv4 or IPv6 literal ("127.0.0.1",
 * "::1"), else a DNS name (letters, digits, hyphens, dots). crl_url is an http:// or
 * https:// URL. days 1..SD_CA_LEAF_MAX_DAYS; more is SD_ERR_REFUSED. info may be NULL. */
int sd_ca_issue_server(sd_ca_t *ca, const char *const *hostnames, size_t n, int days, const char *crl_url,
                       const char *cert_path, const char *key_path, sd_ca_cert_info_t *info) SD_WUR;

/* A client certificate: CN = name (1..SD_CA_NAME_MAX bytes of UTF-8, no control
 * characters), OU = role, extendedKeyUsage clientAuth, the CRL distribution point.
 * With csr == NULL a new P-256 key is generated and *key_pem receives it (PKCS#8 PEM in
 * sd_secret_alloc memory: free with sd_secret_free). With a CSR (PEM or DER, checked as
 * sd_ca_csr_check does) only its public key is used and *key_pem is set to NULL; key_pem
 * may be NULL then. *cert_pem is malloc'd. info (fingerprint, serial, ...) may be NULL. */
int sd_ca_issue_client(sd_ca_t *ca, const char *role, const char *name, const uint8_t *csr, size_t csr_len, int days,
                       const char *crl_url, char **cert_pem, char **key_pem, sd_ca_cert_info_t *info) SD_WUR;

/* Parses a certificate signing request — one PEM "CERTIFICATE REQUEST" block (nothing
 * but whitespace around it) or exactly one DER structure — and checks its
 * self-signature and that its key is P-256 or Ed25519. SD_ERR_TOOBIG beyond
 * SD_CA_CSR_MAX_BYTES, SD_ERR_FORMAT when unparseable, SD_ERR_VERIFY for a bad
 * signature, SD_ERR_REFUSED for another key type. type may be NULL. */
int sd_ca_csr_check(const uint8_t *csr, size_t len, sd_ca_key_type_t *type) SD_WUR;

/* A CRL signed by the CA, listing `revoked` (serials must be distinct), with CRL number
 * `number` (>= 1; callers keep it increasing) and nextUpdate next_update_days
 * (1..SD_CA_CRL_MAX_DAYS) from now. Either output may be NULL: *pem (NUL-terminated)
 * and *der are malloc'd. */
int sd_ca_crl(sd_ca_t *ca, const sd_ca_revoked_t *revoked, size_t n, uint64_t number, int next_update_days, char **pem,
              uint8_t **der, size_t *der_len) SD_WUR;

/* Decides whether a presented client certificate (DER) identifies someone at time
 * `now`: issued by this CA (signature and chain), within its validity, not a CA,
 * extendedKeyUsage clientAuth, a known role in its OU, and its serial not in `revoked`.
 * SD_ERR_VERIFY (not ours, bad signature), SD_ERR_EXPIRED (outside its validity),
 * SD_ERR_REFUSED (revoked), SD_ERR_INVALID (no clientAuth, no or unknown role),
 * SD_ERR_FORMAT (not a certificate). On success fills info. */
int sd_ca_verify_client(const sd_ca_t *ca, const uint8_t *der, size_t len, const sd_ca_revoked_t *revoked,
                        size_t n_revoked, int64_t now, sd_ca_cert_info_t *info) SD_WUR;

/* SHA-256 of a DER certificate, after checking it is exactly one certificate. */
int sd_ca_fingerprint(const uint8_t *der, size_t len, uint8_t out[SD_CA_FINGERPRINT_BYTES]) SD_WUR;

/* The DER bytes of the one certificate in a PEM text (nothing but whitespace around
 * the block). *der is malloc'd. */
int sd_ca_cert_from_pem(const char *pem, size_t len, uint8_t **der, size_t *der_len) SD_WUR;

#endif
