/*
 * uploads.h — filing: resumable chunked uploads, commit, cases and receipts
 * (DESIGN.md, Server API; issue 3). The routes for /v1/uploads and /v1/cases live in
 * server/upload.c and server/cases.c; this is what the server calls to set them up.
 *
 * State kept in memory (the loop thread only): a bounded cache of parsed headers of
 * uploads in progress, each account's count of unfinished uploads, the next case number
 * of the current year. All of it can be rebuilt from the store, which is the truth.
 */
#ifndef SEALDROP_UPLOADS_H
#define SEALDROP_UPLOADS_H

#include "sealdrop/error.h"
#include "sealdrop/route.h"

typedef struct sd_uploads sd_uploads_t;

/* Loads what the uploads need from the store (start-up, synchronous), removes expired
 * uploads, and schedules the hourly collection of the ones that expire later. */
int sd_uploads_start(sd_server_t *s, sd_uploads_t **out) SD_WUR;
void sd_uploads_free_(sd_uploads_t *u);
#define sd_uploads_free(u)                                                                                             \
	do {                                                                                                           \
		sd_uploads_free_(u);                                                                                   \
		(u) = NULL;                                                                                            \
	} while (0)

/* The server's uploads state (set by server.c after sd_uploads_start). */
sd_uploads_t *sd_server_uploads(sd_server_t *s);

#endif
