/*
 * consent_int.h — what crypto/consent.c shares with crypto/consent_text.c: the field
 * rules of a consent and of a revocation, errors as err (SD_ERR_FORMAT reading,
 * SD_ERR_INVALID writing, SD_ERR_USAGE explaining).
 */
#ifndef SEALDROP_CONSENT_INT_H
#define SEALDROP_CONSENT_INT_H

#include "sealdrop/consent.h"

int sdc_check_consent(const sd_consent_t *c, int err);
int sdc_check_revocation(const sd_revocation_t *rv, int err);

#endif
