#!/bin/sh
# Turns the EFF large wordlist (dice digits, tab, word) into a sorted C string table.
# Usage: gen-wordlist.sh IN OUT.  Fails unless there are exactly 7776 sorted, unique words.
set -eu
in=$1; out=$2
n=$(awk -F'\t' 'NF == 2 && $2 ~ /^[a-z-]+$/' "$in" | wc -l)
[ "$n" -eq 7776 ] || { echo "gen-wordlist: $in: expected 7776 words, found $n" >&2; exit 1; }
cut -f2 "$in" | LC_ALL=C sort -c -u || { echo "gen-wordlist: $in: words not sorted/unique" >&2; exit 1; }
tmp="$out.tmp.$$"
{
  echo "/* Generated from crypto/data/eff_large_wordlist.txt by scripts/gen-wordlist.sh. */"
  echo "/* EFF Large Wordlist, (c) 2016 Electronic Frontier Foundation, CC BY 3.0 US. */"
  echo "#include \"sealdrop/codename.h\""
  echo "const char *const sd_wordlist_words[SD_WORDLIST_SIZE] = {"
  cut -f2 "$in" | awk '{ printf "\t\"%s\",\n", $0 }'
  echo "};"
} > "$tmp"
mv "$tmp" "$out"
