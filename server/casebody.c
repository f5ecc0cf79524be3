/*
 * casebody.c — the case routes' JSON bodies (include/sealdrop/casebody.h): a transition's
 * action and members, a written notice's three sealed boxes, an unseal's scope, and the
 * whistleblower's answers. Pure: no server, no store; server/casework.c,
 * server/notices.c, server/consents.c and server/whistle.c call these,
 * tests/fuzz/fuzz_casebody.c drives them. Start at sd_casebody_step().
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "sealdrop/bytes.h"
#include "sealdrop/casebody.h"
#include "sealdrop/sealbox.h"
#include "sealdrop/sealdrop.h"

#define B64_MAX(n) (4 * (((n) + 2) / 3))

/* Member name: canonical, padded base64 of a sealed box of SD_SEALBOX_OVERHEAD + 1 to max
 * bytes into *box (malloc'd); absent leaves *box NULL. */
static int sealed_member(json_t *o, const char *name, size_t max, uint8_t **box, size_t *len)
{
	json_t *v = json_object_get(o, name);
	const char *b64 = json_string_value(v);
	size_t n = b64 != NULL ? json_string_length(v) : 0, pad = 0;

	*box = NULL;
	*len = 0;
	if (v == NULL)
		return 0;
	if (b64 == NULL || n == 0 || n > B64_MAX(max) || n % 4 != 0 || strlen(b64) != n)
		goto bad;
	while (pad < 2 && b64[n - 1 - pad] == '=')
		pad++;
	*len = n / 4 * 3 - pad;
	if (*len <= SD_SEALBOX_OVERHEAD || *len > max)
		goto bad;
	if ((*box = malloc(*len)) == NULL)
		return SD_ERR_NOMEM;
	if (sd_base64_decode_exact(b64, *box, *len) == 0)
		return 0;
	free(*box);
	*box = NULL;
bad:
	*len = 0;
	return sd_error(SD_ERR_FORMAT, "'%s' must be the base64 of a sealed box of %d to %zu bytes", name,
	                SD_SEALBOX_OVERHEAD + 1, max);
}

/* Refuses a member not in allowed (a NULL-ended list). */
static int only_members(json_t *o, const char *const allowed[], const char *what)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		bool known = false;
		for (size_t i = 0; allowed[i] != NULL; i++)
			known = known || strcmp(key, allowed[i]) == 0;
		if (!known)
			return sd_error(SD_ERR_FORMAT, "%s takes no member '%.32s'", what, key);
	}
	return 0;
}

static json_t *load_object(const uint8_t *body, size_t len)
{
	json_t *o = body != NULL ? json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;

	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* --- transitions ---------------------------------------------------------------------- */

/* The members each action takes besides "action" (docs/API.md). */
static const char *const *action_members(sd_case_action_t a)
{
	static const char *const none[] = {"action", NULL}, *const text[] = {"action", "text", NULL},
	                         *const refer[] = {"action", "kind", "agency", NULL},
	                         *const agency[] = {"action", "agency", NULL},
	                         *const reason[] = {"action", "reason", NULL},
	                         *const outcome[] = {"action", "concluded", "text", NULL};

	switch (a) {
	case SD_ACTION_EXTEND:
	case SD_ACTION_REINVESTIGATE:
	case SD_ACTION_OBJECT:
		return text;
	case SD_ACTION_REFER:
		return refer;
	case SD_ACTION_FORWARD:
		return agency;
	case SD_ACTION_TERMINATE:
		return reason;
	case SD_ACTION_OUTCOME:
		return outcome;
	case SD_ACTION_CLOSE:
		break;
	}
	return none;
}

static const char *member_string(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* Every member the action takes, each a string; their values into step. */
static int step_members(json_t *o, sd_case_step_t *step, const sd_directory_t *d)
{
	const char *const *want = action_members(step->action);
	const char *what = sd_case_action_name(step->action), *s;
	int r;

	for (size_t i = 0; want[i] != NULL; i++)
		if (!json_is_string(json_object_get(o, want[i])))
			return sd_error(SD_ERR_FORMAT, "'%s' takes a string '%s'", what, want[i]);
	if ((r = only_members(o, want, what)) < 0)
		return r;
	if ((s = member_string(o, "kind")) != NULL && !sd_refer_kind_from_name(s, &step->kind))
		return sd_error(SD_ERR_FORMAT, "'kind' is inspection or investigation");
	if ((s = member_string(o, "reason")) != NULL && !sd_terminate_reason_from_name(s, &step->reason))
		return sd_error(SD_ERR_FORMAT, "'reason' is unrelated, no-evidence or not-inspectable");
	if ((s = member_string(o, "concluded")) != NULL && sd_date_parse(s, &step->concluded) < 0)
		return sd_error(SD_ERR_FORMAT, "'concluded' is a date, YYYY-MM-DD");
	if ((s = member_string(o, "agency")) != NULL) {
		if (d == NULL || sd_directory_find_agency(d, s) == NULL)
			return sd_error(SD_ERR_NOENT, "the directory lists no agency '%.64s'", s);
		snprintf(step->agency, sizeof(step->agency), "%s", s);
	}
	return 0;
}

int sd_casebody_step(const uint8_t *body, size_t len, const sd_directory_t *d, sd_case_step_t *step, uint8_t **text,
                     size_t *text_len)
{
	json_t *o = load_object(body, len);
	const char *action = o != NULL ? member_string(o, "action") : NULL;
	int r;

	*text = NULL;
	*text_len = 0;
	if (action == NULL || !sd_case_action_from_name(action, &step->action) ||
	    !sd_case_action_is_officers(step->action)) {
		json_decref(o);
		return sd_error(SD_ERR_FORMAT, "the body is a JSON object whose 'action' is extend, refer, forward, "
		                               "terminate, outcome, reinvestigate or close");
	}
	if ((r = step_members(o, step, d)) == 0 &&
	    (r = sealed_member(o, "text", SD_CASE_TEXT_MAX + SD_SEALBOX_OVERHEAD, text, text_len)) == 0)
		step->has_text = *text != NULL;
	json_decref(o);
	return r;
}

/* --- written notices ------------------------------------------------------------------ */

int sd_casebody_notice(const uint8_t *body, size_t len, sd_notice_t *n)
{
	static const char *const members[] = {"to_whistleblower", "to_attorney", "to_commission", NULL};
	json_t *o = load_object(body, len);
	int r;

	if (o == NULL)
		return sd_error(SD_ERR_FORMAT,
		                "the body is a JSON object: to_whistleblower, to_attorney (when the "
		                "attorney has a box key) and to_commission, each a sealed box in base64");
	if ((r = only_members(o, members, "a notice")) == 0 &&
	    (r = sealed_member(o, "to_whistleblower", SD_NOTICE_BOX_MAX, &n->to_whistleblower,
	                       &n->whistleblower_len)) == 0 &&
	    (r = sealed_member(o, "to_attorney", SD_NOTICE_BOX_MAX, &n->to_attorney, &n->attorney_len)) == 0 &&
	    (r = sealed_member(o, "to_commission", SD_NOTICE_BOX_MAX, &n->to_commission, &n->commission_len)) == 0 &&
	    (n->to_whistleblower == NULL || n->to_commission == NULL))
		r = sd_error(SD_ERR_FORMAT, "a notice needs 'to_whistleblower' and 'to_commission'");
	json_decref(o);
	return r;
}

/* --- unseal requests ------------------------------------------------------------------ */

int sd_casebody_unseal(const uint8_t *body, size_t len, char scope[SD_CONSENT_SCOPE_MAX])
{
	static const char *const members[] = {"scope", NULL};
	json_t *o = load_object(body, len), *v;
	const char *text;
	sd_consent_t probe;
	int r;

	scope[0] = '\0';
	memset(&probe, 0, sizeof(probe));
	if (o == NULL)
		return sd_error(SD_ERR_FORMAT, "the body is a JSON object with a 'scope'");
	if ((r = only_members(o, members, "an unseal")) < 0)
		goto out;
	v = json_object_get(o, "scope");
	text = json_string_value(v);
	/* The whole string (no NUL inside) is a scope: "commission" or "agency:" and an id. */
	if (text == NULL || json_string_length(v) >= SD_CONSENT_SCOPE_MAX || strlen(text) != json_string_length(v) ||
	    sd_consent_scope_set(&probe, text) < 0) {
		r = sd_error(SD_ERR_FORMAT, "'scope' is \"commission\" or \"agency:ID\"");
		goto out;
	}
	sd_consent_scope_text(&probe, scope);
	r = 0;
out:
	json_decref(o);
	return r;
}

/* --- the whistleblower's answers ------------------------------------------------------ */

/* Member name of o: canonical padded base64 of exactly len bytes. */
static int fixed_member(json_t *o, const char *name, uint8_t *out, size_t len)
{
	json_t *v = json_object_get(o, name);
	const char *b64 = json_string_value(v);

	if (b64 == NULL || json_string_length(v) != B64_MAX(len) || strlen(b64) != B64_MAX(len) ||
	    sd_base64_decode_exact(b64, out, len) < 0)
		return sd_error(SD_ERR_FORMAT, "session member '%s' must be the base64 of %zu bytes", name, len);
	return 0;
}

static int session_member(json_t *o, sd_session_proof_t *p)
{
	static const char *const members[] = {"challenge", "client_nonce", "locator", "signature", "pow", NULL};
	json_t *s = json_object_get(o, "session");
	int r;

	if (!json_is_object(s))
		return sd_error(SD_ERR_FORMAT, "the body needs a 'session' object");
	if ((r = only_members(s, members, "a session")) < 0 ||
	    (r = fixed_member(s, "challenge", p->server_nonce, sizeof(p->server_nonce))) < 0 ||
	    (r = fixed_member(s, "client_nonce", p->client_nonce, sizeof(p->client_nonce))) < 0 ||
	    (r = fixed_member(s, "locator", p->locator, sizeof(p->locator))) < 0 ||
	    (r = fixed_member(s, "signature", p->signature, sizeof(p->signature))) < 0)
		return r;
	return fixed_member(s, "pow", p->pow, sizeof(p->pow));
}

int sd_casebody_wb(const uint8_t *body, size_t len, bool objection, sd_wb_body_t *out)
{
	static const char *const status_members[] = {"session", NULL}, *const objection_members[] = {"session", "case",
	                                                                                             "text", NULL};
	json_t *o = load_object(body, len), *cn;
	int r;

	memset(out, 0, sizeof(*out));
	if (o == NULL)
		return sd_error(SD_ERR_FORMAT, "the body is a JSON object with a 'session'");
	if ((r = only_members(o, objection ? objection_members : status_members, "this route")) < 0 ||
	    (r = session_member(o, &out->session)) < 0 || !objection)
		goto out;
	if ((cn = json_object_get(o, "case")) != NULL) {
		if (!json_is_string(cn) || !sd_case_number_is_valid(json_string_value(cn))) {
			r = sd_error(SD_ERR_FORMAT, "'case' must be a case number, YYYY-NNNNNN");
			goto out;
		}
		snprintf(out->case_number, sizeof(out->case_number), "%s", json_string_value(cn));
	}
	r = sealed_member(o, "text", SD_CASE_TEXT_MAX + SD_SEALBOX_OVERHEAD, &out->text, &out->text_len);
	if (r == 0 && out->text == NULL)
		r = sd_error(SD_ERR_FORMAT, "an objection needs its 'text', sealed to the intake key");
out:
	json_decref(o);
	return r;
}

int sd_casebody_wb_consent(const uint8_t *body, size_t len, sd_session_proof_t *session, sd_consent_file_t *file)
{
	static const char *const members[] = {"session", "file", NULL};
	json_t *o = load_object(body, len), *f;
	char *text = NULL;
	int r;

	memset(session, 0, sizeof(*session));
	memset(file, 0, sizeof(*file));
	if (o == NULL)
		return sd_error(SD_ERR_FORMAT, "the body is a JSON object with a 'session' and a 'file'");
	if ((r = only_members(o, members, "this route")) < 0 || (r = session_member(o, session)) < 0)
		goto out;
	if (!json_is_object(f = json_object_get(o, "file"))) {
		r = sd_error(SD_ERR_FORMAT, "the body needs a 'file' object: a consent or a revocation");
		goto out;
	}
	if ((text = json_dumps(f, JSON_COMPACT)) == NULL)
		r = SD_ERR_NOMEM;
	else
		r = sd_consent_file_parse((const uint8_t *)text, strlen(text), file);
out:
	free(text);
	json_decref(o);
	return r;
}
