/*
 * store_int.h — what server/store.c shares with the files that implement its larger
 * operations. Nothing outside the store includes this header: LMDB stays behind store.h.
 */
#ifndef SEALDROP_STORE_INT_H
#define SEALDROP_STORE_INT_H

#include <stdint.h>
#include <lmdb.h>

/* The databases the audit log lives in (include/sealdrop/store.h, "The audit log"). */
typedef struct {
	MDB_dbi meta, leaves, nodes, case_events;
} store_log_dbs_t;

#define STORE_LOG_CORRUPT (-30001) /* neither an LMDB code (-30799..-30780) nor an errno */

/* LOG-APPEND inside txn: 0 with *index set; an LMDB error code with *what naming the call
 * that failed; or STORE_LOG_CORRUPT with *what saying what is inconsistent (a size that
 * does not parse, a leaf already present at the size, a missing left sibling). */
int store_log_append(MDB_txn *txn, const store_log_dbs_t *dbs, const MDB_val *leaf, const MDB_val *case_key,
                     uint64_t *index, const char **what);

#endif
