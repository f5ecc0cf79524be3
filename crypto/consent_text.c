/*
 * consent_text.c — what the whistleblower reads before signing a consent or a
 * revocation (Decree Art. 7(2); include/sealdrop/consent.h, sd_consent_explain and
 * sd_revocation_explain), in Korean then English. Kept apart from crypto/consent.c, which
 * builds, signs and checks the records: these are texts for a person, not rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_int.h"
#include "sealdrop/bytes.h"
#include "sealdrop/consent.h"
#include "sealdrop/sealdrop.h"

#define CS_TEXT_MAX 8192 /* an explanation, both languages */

/* --- the Art. 7(2) explanations ----------------------------------------------------------
 *
 * Read by someone deciding whether to reveal who they are: what opens, for whom, until
 * when, what revoking does and does not undo. Labelled lines keep the Korean free of
 * particles glued to names the directory supplies. */

static const char *const explain_ko =
        "신원 공개 동의 안내 (공익신고자 보호법 시행령 제7조제2항)\n\n"
        "이 동의에 서명하면 아래의 받는 쪽이 이 신고와 함께 봉인된 귀하의 인적사항(성명, 주민등록번호, 주소, "
        "직업, 직장, 연락처)을 열어 볼 수 있게 됩니다.\n\n"
        "- 대상 신고: 패키지 %s\n- 받는 쪽: %s\n- 받는 쪽의 열쇠: %s\n"
        "- 유효 기간: %s부터 %s까지 (한국 시간, 마지막 날 포함)\n\n%s\n"
        "기간이 지나면 동의는 저절로 효력을 잃습니다. 그 전에라도 언제든지 sealdrop consent revoke 명령으로, "
        "또는 철회 파일을 만들어 변호사에게 전달하는 방법으로 철회할 수 있습니다. 철회하면 서버는 그 뒤의 열람을 "
        "모두 거부합니다. 다만 철회하기 전에 이미 열람된 정보나, 동의가 유효하던 동안 받는 쪽이 얻은 사본은 되돌릴 "
        "수 없습니다.\n"
        "서버를 통해 귀하의 신원이 열람되거나 기관에 전달될 때마다 감사 기록에 남으며, sealdrop status로 동의와 "
        "열람 기록을 확인할 수 있습니다. 위원회가 열람하면 귀하에게 통지됩니다.\n"
        "동의 여부는 귀하가 자유롭게 정합니다. 동의하지 않으면 귀하의 신원은 봉인된 채로 남습니다.\n";

static const char *const explain_en =
        "\nConsent to disclose your identity (Enforcement Decree of the Public Interest Whistleblower Protection "
        "Act, Art. 7(2))\n\n"
        "If you sign this consent, the recipient below will be able to open the personal information sealed "
        "with this report (name, resident registration number, address, occupation, workplace, contact "
        "details).\n\n"
        "- Report: package %s\n- Recipient: %s\n- Recipient's key: %s\n"
        "- Valid: from %s through %s (Korea Standard Time, the last day included)\n\n%s\n"
        "When the period ends the consent lapses by itself. Before then you can revoke it at any time with the "
        "command sealdrop consent revoke, or by making a revocation file and giving it to your attorney. Once "
        "it is revoked, the server refuses every further opening. What was opened before you revoked, or "
        "copied by the recipient while the consent was valid, cannot be taken back.\n"
        "Each time your identity is opened or passed to an agency through the server, it is recorded in the "
        "audit log; sealdrop status shows your consents and every access. You receive a notice whenever the "
        "Commission opens it.\n"
        "Whether to consent is your free choice. If you do not consent, your identity stays sealed.\n";

static const char *const limit_text[][2] = {
        [SD_CONSENT_COMMISSION] = {"위원회는 이 동의만으로 귀하의 신원을 다른 기관에 넘길 수 없습니다. 기관에 "
                                   "넘기려면 그 기관을 지정한 별도의 동의가 필요합니다.",
                                   "With this consent alone the Commission cannot pass your identity to any "
                                   "agency; that needs a separate consent naming the agency."},
        [SD_CONSENT_AGENCY] = {"이 동의로는 그 기관만 귀하의 신원을 열 수 있으며, 위원회를 포함한 다른 누구도 열 수 "
                               "없습니다.",
                               "With this consent only that agency can open your identity; nobody else can, not "
                               "even the Commission."},
};

/* "받는 쪽" / "Recipient", naming the agency from the directory. */
static int explain_recipient(const sd_consent_t *c, const sd_directory_t *d, char ko[512], char en[512])
{
	char name[SD_AGENCY_NAME_MAX + 4];
	const sd_agency_t *a;

	if (c->scope == SD_CONSENT_COMMISSION) {
		snprintf(ko, 512, "위원회에서 신원 열쇠를 보관하는 담당자(관리인)");
		snprintf(en, 512, "the Commission's custodians, the officers who hold the identity key");
		return 0;
	}
	if ((a = sd_directory_find_agency(d, c->agency)) == NULL)
		return sd_error(SD_ERR_REFUSED, "consent: agency '%s' is not in the directory (version %u)", c->agency,
		                d->version);
	sd_error_printable(a->name, name, sizeof(name));
	snprintf(ko, 512, "기관 %s (ID %s), 위원회가 이 신고를 그 기관에 이첩하거나 송부할 때", name, a->id);
	snprintf(en, 512, "the agency %s (id %s), when the Commission refers or forwards this report to it", name,
	         a->id);
	return 0;
}

int sd_consent_explain(const sd_consent_t *c, const sd_directory_t *dir, char **out)
{
	char ko[512], en[512], digest[17], key[SD_KEY_ID_HEX_BYTES], from[SD_DATE_TEXT_BYTES], to[SD_DATE_TEXT_BYTES];
	size_t n;
	int r;

	*out = NULL;
	if (c == NULL || dir == NULL)
		return sd_error(SD_ERR_USAGE, "consent: an explanation needs the consent and the directory");
	if ((r = sdc_check_consent(c, SD_ERR_USAGE)) < 0 || (r = explain_recipient(c, dir, ko, en)) < 0)
		return r;
	sd_hex_encode(c->header_digest, 8, digest);
	sd_key_id_hex(c->grantee_key_id, key);
	sd_date_format(c->issued, from);
	sd_date_format(c->expires, to);
	if ((*out = malloc(CS_TEXT_MAX)) == NULL)
		return SD_ERR_NOMEM;
	/* at most about 3 KiB with the longest agency name: both always fit */
	n = (size_t)snprintf(*out, CS_TEXT_MAX, explain_ko, digest, ko, key, from, to, limit_text[c->scope][0]);
	if (n < CS_TEXT_MAX)
		snprintf(*out + n, CS_TEXT_MAX - n, explain_en, digest, en, key, from, to, limit_text[c->scope][1]);
	return 0;
}

int sd_revocation_explain(const sd_revocation_t *rv, char **out)
{
	char digest[17], id[17], date[SD_DATE_TEXT_BYTES], what_ko[64], what_en[64];
	int r;

	*out = NULL;
	if (rv == NULL)
		return sd_error(SD_ERR_USAGE, "revocation: an explanation needs the revocation");
	if ((r = sdc_check_revocation(rv, SD_ERR_USAGE)) < 0)
		return r;
	sd_hex_encode(rv->header_digest, 8, digest);
	sd_hex_encode(rv->consent_id, 8, id);
	sd_date_format(rv->date, date);
	if (rv->all) {
		snprintf(what_ko, sizeof(what_ko), "이 신고의 모든 동의");
		snprintf(what_en, sizeof(what_en), "every consent on this report");
	} else {
		snprintf(what_ko, sizeof(what_ko), "동의 ID %s...", id);
		snprintf(what_en, sizeof(what_en), "consent id %s...", id);
	}
	if ((*out = malloc(CS_TEXT_MAX)) == NULL)
		return SD_ERR_NOMEM;
	snprintf(*out, CS_TEXT_MAX,
	         "동의 철회 안내\n\n- 대상 신고: 패키지 %s\n- 철회하는 동의: %s\n- 날짜: %s\n\n"
	         "철회하면 서버는 그 동의에 따른 신원 열람을 더 이상 허용하지 않고, 그 동의로 전달된 공개분을 "
	         "삭제합니다. 철회는 감사 기록에 남습니다.\n"
	         "다만 철회하기 전에 이미 열람된 정보와, 동의가 유효하던 동안 만들어진 서버 저장소의 사본은 되돌릴 수 "
	         "없습니다. 나중에 다시 동의하려면 새 동의에 서명하면 됩니다.\n\n"
	         "Revoking your consent\n\n- Report: package %s\n- Revoked: %s\n- Date: %s\n\n"
	         "Once revoked, the server allows no further opening of your identity under that consent and deletes "
	         "the release it carried. The revocation is recorded in the audit log.\n"
	         "What was opened before you revoked, and any copy of the server's store made while the consent was "
	         "live, cannot be taken back. To consent again later, sign a new consent.\n",
	         digest, what_ko, date, digest, what_en, date);
	return 0;
}
