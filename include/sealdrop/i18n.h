/*
 * i18n.h — Korean or English for both programs: gettext, following LANG like any other
 * program. Each binary has its own text domain and catalogue ("sealdrop" for the client,
 * "sealdropd" for the server's commands; po/ and po/sealdropd/), bound once at the start
 * of main() by sd_i18n_init(), before any thread exists.
 */
#ifndef SEALDROP_I18N_H
#define SEALDROP_I18N_H

/* Where a binary's catalogue is: $SEALDROP_LOCALEDIR if set; else build_localedir when
 * the running executable sits in build_dir (the binaries the end-to-end tests run); else
 * installed_localedir, the $(PREFIX)/share/locale `make install` filled. */
typedef struct {
	const char *domain;              /* "sealdrop", "sealdropd" */
	const char *installed_localedir; /* $(LOCALEDIR) */
	const char *build_dir;           /* the build tree's absolute path, "" for none */
	const char *build_localedir;     /* its catalogues */
} sd_i18n_t;

/* The places the Makefile compiles into the objects that call sd_i18n_init (client/i18n.o,
 * server/cmd_cli.o): -DSD_LOCALEDIR, the installed catalogues, and -DSD_BUILD_DIR, the build
 * tree. SD_I18N_BUILT("domain") is the sd_i18n_t for them. */
#ifndef SD_LOCALEDIR
#define SD_LOCALEDIR "/usr/local/share/locale"
#endif
#ifndef SD_BUILD_DIR
#define SD_BUILD_DIR ""
#endif
#define SD_I18N_BUILT(d)                                                                                               \
	((const sd_i18n_t){.domain = (d),                                                                              \
	                   .installed_localedir = SD_LOCALEDIR,                                                        \
	                   .build_dir = SD_BUILD_DIR,                                                                  \
	                   .build_localedir = SD_BUILD_DIR "/locale"})

/* Selects the locale LANG asks for (C.UTF-8 with LANGUAGE when that locale is not
 * installed: see i18n.c), binds the domain's catalogue and makes it the default, and
 * sets sd_gettext as the library's error translator. */
void sd_i18n_init(const sd_i18n_t *t);

/* gettext(msgid), except that "" stays "" (gettext("") is the catalogue's header). */
const char *sd_gettext(const char *msgid) __attribute__((format_arg(1)));

/* The locale LC_MESSAGES asks for (LC_ALL, LC_MESSAGES, LANG: the first one set), or
 * NULL for none. */
const char *sd_locale_requested(void);

#endif
