# records.sh — `seal` checks the report and the identity record before anything is sealed:
# every required field, its type, unknown fields, identity_disclosure, and the resident
# registration number's form, calendar date and century digit (no check digit). A
# refusal exits 65, names the field, and leaves neither a package nor a codename file.
. "$(dirname "$0")/lib.sh"

D="$T/demo"
mkdeployment "$D" demo || done_testing
REPORT=docs/examples/report.json
IDENTITY=docs/examples/identity.json
mkdir -p "$T/out"

# Seals report and identity into $T/out; leaves the outcome in $RC / $ERR.
seal_records() { # report identity
	sd seal --directory "$D/directory.json" --root "$D/root.key.pub" --report "$1" \
		--identity "$2" --out "$T/out/pkg.sdx" --codename-out "$T/out/codename" --quiet
}

nothing_left() { # description
	if [ -n "$(ls -A "$T/out")" ]; then
		not_ok "$1: nothing left behind (found: $(ls -A "$T/out" | tr '\n' ' '))"
		rm -rf "$T/out" && mkdir -p "$T/out"
	else
		ok "$1: nothing left behind"
	fi
}

# A refused seal: exit 65, stderr names every WORD, no package or codename file.
refused() { # description report identity word...
	_d=$1 _r=$2 _i=$3
	shift 3
	_m=""
	for _w; do _m="$_m -m $_w"; done
	# shellcheck disable=SC2086
	expect_exit 65 "$_d: seal exits 65" $_m seal_records "$_r" "$_i"
	nothing_left "$_d"
}

accepted() { # description report identity
	expect_exit 0 "$1: seal accepts it" seal_records "$2" "$3"
	if [ -s "$T/out/pkg.sdx" ] && [ -s "$T/out/codename" ]; then
		ok "$1: package and codename written"
	else
		not_ok "$1: package and codename written"
	fi
	rm -f "$T/out/pkg.sdx" "$T/out/codename"
}

report_with() { # statement -> $T/report.json
	json_edit "$REPORT" "$T/report.json" "$1" || not_ok "set-up: edit report: $1"
}
identity_with() { # statement -> $T/identity.json
	json_edit "$IDENTITY" "$T/identity.json" "$1" || not_ok "set-up: edit identity: $1"
}

# The control: the examples as they are.
accepted "the example report and identity" "$REPORT" "$IDENTITY"

# --- the report ---
for f in accused_organization particulars purpose details relationship evidence_summary \
	prior_filings identity_disclosure; do
	report_with "del d['$f']"
	refused "report without $f" "$T/report.json" "$IDENTITY" "$f"
done
report_with "d['details'] = 42"
refused "report details is a number" "$T/report.json" "$IDENTITY" details
report_with "d['particulars'] = ''"
refused "report particulars is empty" "$T/report.json" "$IDENTITY" particulars
report_with "d['prior_filings'] = 'none'"
refused "report prior_filings is a string" "$T/report.json" "$IDENTITY" prior_filings
report_with "d['prior_filings'] = [{'date': '2024-07-15'}]"
refused "a prior filing without its agency" "$T/report.json" "$IDENTITY" agency
report_with "d['accused_organisation'] = d['accused_organization']"
refused "report with an unknown field" "$T/report.json" "$IDENTITY" accused_organisation
report_with "d['identity_disclosure'] = 'maybe'"
refused "identity_disclosure 'maybe'" "$T/report.json" "$IDENTITY" identity_disclosure
report_with "d['identity_disclosure'] = True"
refused "identity_disclosure true" "$T/report.json" "$IDENTITY" identity_disclosure
for v in consent no-consent; do
	report_with "d['identity_disclosure'] = '$v'"
	accepted "identity_disclosure '$v'" "$T/report.json" "$IDENTITY"
done
report_with "d['prior_filings'] = []"
accepted "no prior filings (empty array)" "$T/report.json" "$IDENTITY"
head -c 200 "$REPORT" >"$T/report.json"
refused "report that is not complete JSON" "$T/report.json" "$IDENTITY" report

# --- the identity ---
for f in name rrn address; do
	identity_with "del d['$f']"
	refused "identity without $f" "$REPORT" "$T/identity.json" "$f"
done
identity_with "d['name'] = ''"
refused "identity with an empty name" "$REPORT" "$T/identity.json" name
identity_with "d['rrn'] = 8503142748316"
refused "rrn as a number" "$REPORT" "$T/identity.json" rrn
identity_with "del d['phone']; del d['email']"
refused "identity with neither phone nor email" "$REPORT" "$T/identity.json" phone
identity_with "d['nickname'] = 'x'"
refused "identity with an unknown field" "$REPORT" "$T/identity.json" nickname

# Resident registration numbers. Every date accepted below is before 2021, so in the past
# wherever these tests run; the refused future date is 2099-12-31.
for rrn in 8503142123456 85-0314-2123456 850314-212345 850314-21234567 85031A-2123456 \
	850314-A123456 " 850314-2123456" 850314_2123456; do
	identity_with "d['rrn'] = '$rrn'"
	refused "rrn '$rrn' (bad form)" "$REPORT" "$T/identity.json" rrn
done
identity_with "d['rrn'] = '230230-4123456'"
refused "rrn 230230-4123456 (2023-02-30)" "$REPORT" "$T/identity.json" rrn 2023-02-30
for rrn in 851314-1123456 850001-2123456 850431-2123456 010229-3123456 000229-1123456; do
	identity_with "d['rrn'] = '$rrn'"
	refused "rrn '$rrn' (no such date)" "$REPORT" "$T/identity.json" rrn
done
identity_with "d['rrn'] = '991231-3123456'"
refused "rrn 991231-3123456 (century digit 3: 2099-12-31, in the future)" "$REPORT" "$T/identity.json" rrn future
identity_with "d['rrn'] = '991231-8123456'"
refused "rrn 991231-8123456 (foreigner, 2000s: in the future)" "$REPORT" "$T/identity.json" rrn

# Valid edge cases: leap days, both centuries, foreigners' digits 5-8, 1800s (9, 0), and
# a number issued since October 2020 (no check digit: any final digit).
for rrn in 000229-3123456 000229-4123456 960229-1123456 960229-2123456 991231-1123456 \
	000101-3000000 991231-5123456 991231-6123456 050101-7123456 200229-8123456 \
	991231-9123456 991231-0123456 850314-2748310 850314-2748319; do
	identity_with "d['rrn'] = '$rrn'"
	accepted "rrn $rrn" "$REPORT" "$T/identity.json"
done

done_testing
