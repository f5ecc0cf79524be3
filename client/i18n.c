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

#ifndef SD_LOCALEDIR
#define SD_LOCALEDIR "/usr/local/share/locale"
#endif
#ifndef SD_BUILD_DIR
#define SD_BUILD_DIR ""
#endif

void cli_i18n_init(void)
{
	static const sd_i18n_t client = {
	        .domain = "sealdrop",
	        .installed_localedir = SD_LOCALEDIR,
	        .build_dir = SD_BUILD_DIR,
	        .build_localedir = SD_BUILD_DIR "/locale",
	};

	sd_i18n_init(&client);
}
