/*
 * download.h — a filed package, read back by the Commission (server/download.c;
 * docs/API.md, "GET /v1/cases/{case}/header" and "GET /v1/cases/{case}/blobs/{k}/chunks/{n}").
 *
 * Officers and custodians only (the route table's roles). The server hands out the
 * ciphertext exactly as the attorney uploaded it: the envelope header, then each chunk on
 * its own, so `sealdrop fetch` can resume, download over several connections and check
 * every chunk against the signed manifest before it keeps it. Nothing is decrypted here;
 * the server holds no key that could.
 */
#ifndef SEALDROP_DOWNLOAD_H
#define SEALDROP_DOWNLOAD_H

#include "sealdrop/route.h"

/* GET /v1/cases/{case}/header: the package's header bytes (application/octet-stream). */
void sd_route_case_header(sd_request_t *r);
/* GET /v1/cases/{case}/blobs/{k}/chunks/{n}: one chunk's bytes as stored. */
void sd_route_case_chunk(sd_request_t *r);

#endif
