/*
 * record.h — the whistleblower's report (Decree Art. 7(1) 2–7) and identity record
 * (Art. 7(1) 1), as JSON, validated before anything is sealed.
 *
 * Validation names the first problem it finds ("report field 'purpose' is missing",
 * "rrn: 2023-02-30 is not a calendar date"); unknown fields are refused so a typo in a
 * field name is not silently dropped. The output is the canonical text that is sealed:
 * jansson, 2-space indent, fields in input order, trailing newline.
 */
#ifndef SEALDROP_RECORD_H
#define SEALDROP_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "sealdrop/date.h"
#include "sealdrop/error.h"

/* Canonical record sizes that still fit their padded buckets (docs/FORMAT.md). */
#define SD_REPORT_MAX_BYTES   ((1u << 20) - 1)
#define SD_IDENTITY_MAX_BYTES (4096u - 1)

/* Report fields: accused_organization, particulars, purpose, details, relationship,
 * evidence_summary (non-empty strings); prior_filings (array of {agency, date?, reference?});
 * identity_disclosure ("consent" | "no-consent" | "undecided").
 * *out is malloc'd canonical text. */
int sd_report_validate(const uint8_t *json, size_t len, char **out, size_t *outlen) SD_WUR;

/* Identity fields: name, rrn, address (required, non-empty); occupation, workplace,
 * phone, email (strings; at least one of phone/email non-empty).
 * *out is sodium_malloc'd (free with sodium_free): identity data is secret. */
int sd_identity_validate(const uint8_t *json, size_t len, sd_date_t today, char **out, size_t *outlen) SD_WUR;

/* Resident registration number: "YYMMDD-GNNNNNN", a real calendar date in the century
 * G names (1,2,5,6: 1900s; 3,4,7,8: 2000s; 9,0: 1800s), not after today. The legacy check
 * digit is NOT enforced: numbers issued since October 2020 carry none. */
int sd_rrn_check(const char *rrn, sd_date_t today) SD_WUR;

#endif
