/*
 * i18n.c — the client's messages in Korean or English: gettext, domain "sealdrop",
 * following LANG like any other program. cli_i18n_init() is the first thing main() does.
 *
 * The people using sealdrop are Korean, often on a freshly installed machine. A fresh
 * Debian 12 has only the C, C.UTF-8 and POSIX locales unless ko_KR.UTF-8 was generated,
 * and then setlocale(LC_ALL, "") fails for LANG=ko_KR.UTF-8, the process stays in "C", and
 * glibc's gettext ignores LANGUAGE in "C": the person asked for Korean and gets English.
 * So when the requested locale is missing but names a language (anything but C/POSIX),
 * we switch to C.UTF-8, which every glibc since 2.35 has built in and which gettext does
 * not treat as "C", and name the requested locale in LANGUAGE (unless the person set
 * LANGUAGE themselves). gettext then finds po/ko.po's catalogue and prints UTF-8. With a
 * generated ko_KR.UTF-8 none of this is needed and the usual path is taken. English
 * stays the default: LANG unset, C, POSIX or en_* find no catalogue.
 *
 * Catalogues: $SEALDROP_LOCALEDIR if set; else the build tree's when this binary is the
 * one in the build tree (./sealdrop in the source tree, as the end-to-end tests run it);
 * else the installed $(PREFIX)/share/locale. The Makefile passes all three paths in.
 */
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define CLI_TEXT_DOMAIN "sealdrop"

#ifndef SD_LOCALEDIR
#define SD_LOCALEDIR "/usr/local/share/locale"
#endif
#ifndef SD_BUILD_EXE
#define SD_BUILD_EXE ""
#endif
#ifndef SD_BUILD_LOCALEDIR
#define SD_BUILD_LOCALEDIR ""
#endif

static bool env_is_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0';
}

/* The locale LC_MESSAGES asks for, in POSIX order of precedence; NULL for none. */
static const char *messages_locale_requested(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (env_is_set(vars[i]))
			return getenv(vars[i]);
	return NULL;
}

static bool locale_is_c(const char *name)
{
	return name == NULL || strcmp(name, "C") == 0 || strcmp(name, "POSIX") == 0;
}

/* setlocale(LC_ALL, "") and, when the requested locale is not installed, C.UTF-8 with
 * the requested one in LANGUAGE (see the top of this file). */
static void locale_select(void)
{
	const char *want;

	if (setlocale(LC_ALL, "") != NULL)
		return;
	want = messages_locale_requested();
	if (locale_is_c(want))
		return;
	if (setlocale(LC_ALL, "C.UTF-8") == NULL && setlocale(LC_ALL, "C.utf8") == NULL)
		return; /* no UTF-8 locale at all: English, as before */
	if (!env_is_set("LANGUAGE"))
		setenv("LANGUAGE", want, 1);
}

/* Whether this process runs the binary the Makefile built in the source tree. */
static bool running_from_build_tree(void)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (SD_BUILD_EXE[0] == '\0')
		return false;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	return strcmp(exe, SD_BUILD_EXE) == 0;
}

static const char *locale_dir(void)
{
	if (env_is_set("SEALDROP_LOCALEDIR"))
		return getenv("SEALDROP_LOCALEDIR");
	if (running_from_build_tree())
		return SD_BUILD_LOCALEDIR;
	return SD_LOCALEDIR;
}

void cli_i18n_init(void)
{
	locale_select();
	bindtextdomain(CLI_TEXT_DOMAIN, locale_dir());
	textdomain(CLI_TEXT_DOMAIN);
	sd_error_set_translator(cli_gettext); /* the library's error details too */
}

const char *cli_gettext(const char *msgid)
{
	return msgid[0] == '\0' ? msgid : gettext(msgid);
}
