#!/usr/bin/env bash
# Refreshes third_party/uplot from the npm registry: the tearsheet embeds uPlot
# (MIT) into every report at build time, so reports need no network.
#   scripts/vendor-uplot.sh [VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-1.6.32}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
command -v npm > /dev/null || { apt-get update -qq && apt-get install -y -qq npm > /dev/null; }
(cd "$work" && npm pack "uplot@$version" > /dev/null 2>&1 && tar xzf "uplot-$version.tgz")
integrity=$(cd "$work" && npm view "uplot@$version" dist.integrity)
mkdir -p third_party/uplot
cp "$work/package/dist/uPlot.iife.min.js" "$work/package/dist/uPlot.min.css" "$work/package/LICENSE" third_party/uplot/
printf 'uplot %s\nnpm integrity %s\n' "$version" "$integrity" > third_party/uplot/VERSION
echo "third_party/uplot: uplot $version"
