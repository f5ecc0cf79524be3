/*
 * i18n.c — the client's messages in Korean or English: gettext, domain "sealdrop"
 * (po/ko.po), chosen by crypto/i18n.c. cli_i18n_init() is the first thing main() does.
 *
 * Catalogues: $SEALDROP_LOCALEDIR if set; else the build tree's when this binary is the
 * one in the build tree (./sealdrop in the source tree, as the end-to-end tests run it);
 * else the installed $(PREFIX)/share/locale. The Makefile passes the paths in.
 */
#include "sealdrop/i18n.h"
#include "cli.h"

void cli_i18n_init(void)
{
	sd_i18n_init(&SD_I18N_BUILT("sealdrop"));
}
