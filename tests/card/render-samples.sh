#!/usr/bin/env bash
# Render the sample cards the unit test draws, so a person can look at them.
#
#   tests/card/render-samples.sh TEST-BINARY FONTS-DIR [OUT-DIR]
#
#   TEST-BINARY  the built tests/unit/test-card-pdf
#   FONTS-DIR    where CardSans.ttf and CardSans-Bold.ttf are (the build dir)
#   OUT-DIR      default: a new folder under /tmp (never the repository)
#
# Runs the test with CIVICARD_CARD_SAMPLES=OUT-DIR (it leaves its sample
# PDFs there), then for each PDF: page count and size (pdfinfo), a PNG of
# every page at 300 dpi (pdftoppm), and the QR code read back from a
# 150 dpi rendering (zbarimg). Exit status: the test's, or 1 if a sample's
# QR code cannot be read.
set -euo pipefail

if [[ $# -lt 2 ]]; then
	sed -n '2,13p' "$0" >&2
	exit 2
fi
test_bin=$(realpath "$1")
fonts=$(realpath "$2")
out=${3:-$(mktemp -d /tmp/civicard-card-samples.XXXXXX)}
mkdir -p "$out"
case $(realpath "$out") in
"$(realpath "$(dirname "$0")/../..")"/*) echo "refusing to write into the repository" >&2; exit 2 ;;
esac

for tool in pdfinfo pdftoppm zbarimg; do
	command -v "$tool" >/dev/null || { echo "$tool missing" >&2; exit 77; }
done

status=0
CIVICARD_FONTS_DIR="$fonts" CIVICARD_CARD_SAMPLES="$out" "$test_bin" >"$out/test.log" 2>&1 || status=$?
tail -n 1 "$out/test.log"

for pdf in "$out"/sample-*.pdf; do
	name=$(basename "$pdf" .pdf)
	pages=$(pdfinfo "$pdf" 2>/dev/null | awk '/^Pages:/ { print $2 }')
	size=$(pdfinfo "$pdf" 2>/dev/null | awk -F': *' '/^Page size:/ { print $2 }')
	pdftoppm -q -r 300 -png "$pdf" "$out/$name"
	# The QR code is on the back (page 2) of a CR80 card, on the page of a sheet.
	qr_page=$([[ $pages == 2 ]] && echo 2 || echo 1)
	pdftoppm -q -r 150 -f "$qr_page" -l "$qr_page" -png -singlefile "$pdf" "$out/$name-scan150"
	if qr=$(zbarimg --raw -q "$out/$name-scan150.png" 2>/dev/null); then
		qr_state="QR ok (${#qr} chars)"
	else
		qr_state="QR UNREADABLE"
		status=1
	fi
	printf '%-22s %s page(s), %s, %6d bytes, %s\n' "$name" "$pages" "$size" \
		"$(stat -c %s "$pdf")" "$qr_state"
done
echo "PNGs in $out"
exit "$status"
