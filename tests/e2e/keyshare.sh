# keyshare.sh — `sealdrop keygen --kind identity --split K/N` (issue 6, item 4): N share
# files and the public key, each share mode 0600 and naming its index, K and N, the whole
# secret key never written; every misuse refused before anything is written; nothing
# overwritten. Rebuilding the key from shares is checked by tests/unit/test_keyshare.c
# (and, later, by unseal).
. "$(dirname "$0")/lib.sh"

expect_exit 0 "keygen --kind identity --split 3/5" \
	sd keygen --kind identity --split 3/5 --out "$T/cust" --passphrase-file "$PW" --kdf interactive --json
keep_output
if [ "$(ls "$T" | grep -c '^cust\.share[1-5]$')" = 5 ] && [ -f "$T/cust.pub" ] && [ ! -e "$T/cust" ]; then
	ok "  five shares and the public key, no whole secret key"
else
	not_ok "  five shares and the public key, no whole secret key"
	diag "$(ls -l "$T")"
fi
modes=""
for i in 1 2 3 4 5; do modes="$modes $(file_mode "$T/cust.share$i")"; done
if [ "$modes" = " 600 600 600 600 600" ]; then ok "  every share is mode 0600"; else not_ok "  every share is mode 0600 ($modes)"; fi
if grep -q 'same passphrase' "$KEPT_ERR"; then ok "  one passphrase file for every share: warned"; else not_ok "  one passphrase file for every share: warned"; fi
if grep -q '^sealdrop-pubkey-v1 identity ' "$T/cust.pub"; then ok "  the public key is an identity key"; else not_ok "  the public key is an identity key"; fi
# Byte 68 on: x, K, N (docs/FORMAT.md, "Identity key shares", "Share file").
hdr=""
for i in 1 3 5; do hdr="$hdr $(od -An -tu1 -j68 -N3 "$T/cust.share$i" | tr -s ' ' | sed 's/^ //')"; done
if [ "$hdr" = " 1 3 5 3 3 5 5 3 5" ]; then ok "  each share names its index, K and N"; else not_ok "  each share names its index, K and N ($hdr)"; fi
if ! cmp -s "$T/cust.share1" "$T/cust.share2"; then ok "  the shares differ"; else not_ok "  the shares differ"; fi

# shellcheck disable=SC2086
{
	expect_exit 64 "--split for an intake key" -m 'identity' sd keygen --kind intake --split 2/3 --out "$T/x" --passphrase-file "$PW"
	expect_exit 64 "K = 1" sd keygen --kind identity --split 1/3 --out "$T/x" --passphrase-file "$PW"
	expect_exit 64 "K > N" sd keygen --kind identity --split 4/3 --out "$T/x" --passphrase-file "$PW"
	expect_exit 64 "N = 256" sd keygen --kind identity --split 2/256 --out "$T/x" --passphrase-file "$PW"
	expect_exit 64 "a malformed K/N" sd keygen --kind identity --split 2-3 --out "$T/x" --passphrase-file "$PW"
}
if ! ls "$T" | grep -q '^x'; then ok "  nothing written by any refused split"; else not_ok "  nothing written by any refused split"; fi
sum=$(cat "$T"/cust.* | cksum)
expect_exit 73 "a split over existing shares is refused" \
	sd keygen --kind identity --split 3/5 --out "$T/cust" --passphrase-file "$PW" --kdf interactive
if [ "$(cat "$T"/cust.* | cksum)" = "$sum" ]; then ok "  and nothing is overwritten"; else not_ok "  and nothing is overwritten"; fi
expect_exit 64 "without a terminal or --passphrase-file: refused" \
	sd keygen --kind identity --split 2/2 --out "$T/y" --kdf interactive
done_testing
