/*
 * ossl.h — the OpenSSL helpers the server's two OpenSSL modules share: the TLS context
 * (server/tls.c) and the CA (server/ca.c). Nothing else includes this header, so
 * OpenSSL stays behind those two modules (STYLE.md, Architecture).
 */
#ifndef SEALDROP_OSSL_H
#define SEALDROP_OSSL_H

#include <stddef.h>
#include <openssl/types.h>
#include "sealdrop/error.h"

/* Records "what (OpenSSL's reason)" as the detail and returns err, emptying OpenSSL's
 * error queue so a stale entry never surfaces later in an unrelated TLS call. */
int sd_ossl_error(int err, const char *what);

/* A pem_password_cb that refuses: the server's keys are never encrypted, and the
 * server never prompts on a terminal. */
int sd_ossl_no_passphrase(char *buf, int size, int rwflag, void *u);

/* Reads the unencrypted PEM private key in path (at most max bytes, held in secure
 * memory while parsed). reading and not_key are the details for a failure to set up
 * the read (SD_ERR_NOMEM) and for a file that holds no such key (SD_ERR_FORMAT). */
int sd_ossl_key_read(const char *path, size_t max, const char *reading, const char *not_key, EVP_PKEY **out) SD_WUR;

#endif
