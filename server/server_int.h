/*
 * server_int.h — the inside of struct sd_server, shared by server.c (the running loop)
 * and server_start.c (building it from a configuration). Nothing else includes this.
 */
#ifndef SEALDROP_SERVER_INT_H
#define SEALDROP_SERVER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "sealdrop/conn.h"
#include "sealdrop/control.h"
#include "sealdrop/keyproc.h"
#include "sealdrop/server.h"
#include "sealdrop/storeproc.h"
#include "sealdrop/tls.h"
#include "sealdrop/uploads.h"
#include "sealdrop/wbgate.h"

struct hop; /* a store answer on its way back to the loop */

struct waiter {
	sd_conn_t *conn;
	uint64_t bytes;
};
struct timer;

struct sd_server {
	const sd_config_t *config;
	char *config_path;
	char root[SD_CONFIG_DIR_MAX + 1]; /* the dir, or "" once chrooted into it */
	struct event_base *base;
	struct evconnlistener *listener;
	int listen_fd, control_fd;
	sd_tls_t *tls;
	sd_ca_t *ca;
	uint8_t *ca_der;
	size_t ca_der_len;
	sd_seckey_t *log_key;  /* only while starting: then the key process's alone (keyproc.c) */
	sd_keyproc_t *keyproc; /* signs with the log key on request */
	sd_pubkey_t log_pub;
	sd_pubkey_t root_key;
	sd_directory_t *directory;
	uint8_t *directory_json;
	size_t directory_len;
	sd_store_t *store;         /* remote: the store process's (storeproc.c) */
	sd_storeproc_t *storeproc; /* holds LMDB, answers the store's requests */
	sd_accounts_t *accounts;
	sd_uploads_t *uploads;
	sd_auditlog_t *auditlog;
	sd_wbgate_t *wbgate; /* the whistleblower routes' gate */
	sd_control_t *control;
	uint8_t *crl;
	size_t crl_len;
	uint64_t crl_number;
	/* Store answers, handed from the store thread to the loop. */
	pthread_mutex_t hop_lock;
	struct hop *hop_head, *hop_tail;
	struct event *hop_event;
	struct event *store_flush_event; /* active while requests are held for the store (store_flush_run) */
	/* The worker thread (sd_server_work): its queue of jobs, then the hop back. */
	pthread_t worker;
	bool worker_running; /* started and not yet told to stop */
	pthread_mutex_t work_lock;
	pthread_cond_t work_cond;
	struct hop *work_head, *work_tail;
	/* Connections, the body budget and its waiters. */
	sd_conn_t **conns;
	size_t n_conns, cap_conns;
	uint64_t budget_used;
	struct waiter *waiters;
	size_t n_waiters, cap_waiters;
	/* Signals, timers, shutdown. */
	struct event *sig_term, *sig_int, *sig_hup, *sig_chld, *drain_timer;
	struct timer *timers;
	bool draining;
	uid_t started_uid;
};

/* server_start.c */
int sd_server_load_files(sd_server_t *s) SD_WUR;
int sd_server_bind(sd_server_t *s) SD_WUR;
int sd_server_drop_privileges(sd_server_t *s) SD_WUR;
int sd_server_open_store(sd_server_t *s) SD_WUR;
/* The path of a file in the server's directory, as seen now (before or after chroot). */
int sd_server_path(const sd_server_t *s, const char *name, char *out, size_t cap) SD_WUR;
/* Adds to req the write of the highest directory version served (meta, u32 LE), which
 * start-up checks directory.json against (server_start.c) and each install raises. */
int sd_server_req_directory_version(sd_store_req_t *req, uint32_t version) SD_WUR;

#endif
