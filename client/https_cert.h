/*
 * https_cert.h — what `sealdrop doctor` (cmd_doctor.c) needs to know about a user's
 * certificate files without connecting anywhere: a certificate's dates and names, whether
 * a CA file issued it, whether a key file belongs to it, whether it is the CA a directory
 * lists. Part of the client's HTTPS module (https.h): https_cert.c is, with https.c, the
 * only client file that calls OpenSSL, and no OpenSSL type crosses this header.
 */
#ifndef SEALDROP_CLIENT_HTTPS_CERT_H
#define SEALDROP_CLIENT_HTTPS_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealdrop/error.h"

#define CLI_CERT_NAME_MAX   64 /* bytes of a CN (RFC 5280 ub-common-name) */
#define CLI_CERT_ROLE_MAX   15
#define CLI_CERT_REASON_MAX 128

typedef struct {
	int64_t not_before, not_after;    /* seconds since the epoch */
	char cn[CLI_CERT_NAME_MAX + 1];   /* the subject's CN, "" when none; UTF-8 */
	char role[CLI_CERT_ROLE_MAX + 1]; /* the subject's OU (a sealdrop role), "" when none */
	bool is_ca;                       /* basicConstraints CA:TRUE */
} cli_cert_info_t;

/* The first certificate of the PEM file at path. SD_ERR_NOENT, SD_ERR_IO, SD_ERR_FORMAT
 * (no PEM certificate), each with a detail naming the file. */
int cli_cert_info_read(const char *path, cli_cert_info_t *out) SD_WUR;
/* 0 when the first certificate of cert_path chains to a certificate of ca_path by its
 * signatures (dates are not looked at: the caller judges them against its own clock);
 * SD_ERR_VERIFY with OpenSSL's reason in the detail when it does not. */
int cli_cert_issuer_check(const char *cert_path, const char *ca_path) SD_WUR;
/* 0 when key_path (an unencrypted PEM private key; key_path may equal cert_path) is the
 * key of cert_path's certificate; SD_ERR_VERIFY when it is another key, SD_ERR_FORMAT
 * when it holds no readable key. */
int cli_cert_key_check(const char *cert_path, const char *key_path) SD_WUR;
/* 0 when pem's first certificate is the first certificate of path; SD_ERR_VERIFY when
 * it is another; SD_ERR_FORMAT when either holds none. */
int cli_cert_same(const char *path, const char *pem) SD_WUR;

#endif
