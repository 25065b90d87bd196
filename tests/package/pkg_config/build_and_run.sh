#!/bin/sh
# Build a C consumer with nothing but pkg-config, against the installed prefix, and run it.
set -eu
prefix=$1 work=$2 model=$3 cc=$4
mkdir -p "$work"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
"$cc" -std=c99 -Wall -Wextra -Werror -o "$work/consumer" "$(dirname "$0")/consumer.c" $(pkg-config --cflags --libs ember)
LD_LIBRARY_PATH="$prefix/lib" "$work/consumer" "$model"
