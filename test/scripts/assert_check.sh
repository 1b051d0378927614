#!/usr/bin/env bash
# The PostgreSQL-facing suites (pg_regress, isolation, TAP) against an assert-enabled PostgreSQL 15
# (--enable-cassert: the server's Assert()s, freed memory clobbered, memory contexts checked, buffer pins
# and locks checked at release), built from Debian's source package. dlq's claim and enqueue call the
# heap, index and snapshot code directly, whose preconditions only such a build checks.
#
# Not part of `make test`: building PostgreSQL takes 15-20 minutes on 2 cores. The build is kept under
# DLQ_ASSERT_PREFIX (default /opt/pg15-assert) and reused by later runs.
#   bash test/scripts/assert_check.sh          (as root; prints "N passed, N failed")
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PREFIX=${DLQ_ASSERT_PREFIX:-/opt/pg15-assert}
SRC_DIR=${DLQ_ASSERT_SRC:-/tmp/dlq-assert-src}

dlq_install_deps
dlq_ensure_user

# Debian's deb-src lines are not configured on a fresh machine: a private list for this download only.
# List-Cleanup=0 keeps apt from deleting the binary package lists that the private list does not name.
apt_src() {
	as_root apt-get -o Dir::Etc::sourcelist="$SRC_DIR/sources.list" -o Dir::Etc::sourceparts=- \
		-o APT::Get::List-Cleanup=0 "$@"
}

build_postgres() {
	say "building an assert-enabled PostgreSQL 15 into $PREFIX"
	as_root rm -rf "$SRC_DIR"
	as_root mkdir -p "$SRC_DIR"
	as_root tee "$SRC_DIR/sources.list" >/dev/null <<-EOF
		deb-src http://deb.debian.org/debian bookworm main
		deb-src http://deb.debian.org/debian-security bookworm-security main
		deb-src http://deb.debian.org/debian bookworm-updates main
	EOF
	apt_src update -qq
	# The newest version first; the security archive's source has answered 404 while its binaries
	# installed, so fall back to the next version.
	local version tarball=""
	for version in $(apt-cache -o Dir::Etc::sourcelist="$SRC_DIR/sources.list" -o Dir::Etc::sourceparts=- \
			showsrc postgresql-15 | sed -n 's/^Version: //p' | sort -rV); do
		if (cd "$SRC_DIR" && apt_src source --download-only -qq "postgresql-15=$version" >/dev/null 2>&1); then
			tarball=$(ls "$SRC_DIR"/postgresql-15_"${version%%-*}".orig.tar.* 2>/dev/null | head -1 || true)
			[ -n "$tarball" ] && break
		fi
	done
	if [ -z "$tarball" ]; then
		echo "assert_check: no postgresql-15 source package could be downloaded" >&2
		exit 1
	fi
	echo "source: $(basename "$tarball")"
	rm -rf "$SRC_DIR/build" && mkdir -p "$SRC_DIR/build"
	tar -xf "$tarball" -C "$SRC_DIR/build" --strip-components=1
	(cd "$SRC_DIR/build" &&
		./configure --prefix="$PREFIX" --enable-cassert --enable-debug --enable-tap-tests \
			--without-readline --without-icu --without-zlib CFLAGS="-O1 -g" >/dev/null &&
		make -s -j2 >/dev/null &&
		as_root make -s install >/dev/null &&
		as_root make -s -C contrib/amcheck install >/dev/null &&
		as_root make -s -C contrib/dblink install >/dev/null)
}

[ -x "$PREFIX/bin/pg_config" ] && [ -f "$("$PREFIX/bin/pg_config" --sharedir)/extension/dblink.control" ] ||
	build_postgres
"$PREFIX/bin/pg_config" --configure | grep -q -- --enable-cassert || {
	echo "assert_check: $PREFIX is not an assert-enabled build" >&2
	exit 1
}
export PATH="$PREFIX/bin:$PATH"
PG_CONFIG="$PREFIX/bin/pg_config"

say "building dlq against $("$PG_CONFIG" --version) (assert-enabled)"
# A fresh copy every run: objects or SQL left from a build against other headers must not be tested.
tree="$DLQ_WORK/assert"
as_root rm -rf "$tree"
as_root mkdir -p "$tree"
as_root rsync -a --exclude /.git --exclude /build --exclude '*.o' --exclude '*.bc' --exclude '*.so' \
	--exclude '/dlq--*.sql' "$DLQ_ROOT/" "$tree/"
make -C "$tree" -s -j2 PG_CONFIG="$PG_CONFIG" DLQ_WERROR=-Werror with_llvm=no
as_root make -C "$tree" -s install PG_CONFIG="$PG_CONFIG" with_llvm=no
as_root chown -R "$DLQ_OSUSER" "$tree"

passed=0
failed=0
# pg_regress removes its temporary instance, logs included, when every test passed: its servers log
# through the collector into $tree/serverlog/<suite> instead, which stays. (TAP keeps tmp_check/log.)
suite() {  # name target log-dir
	say "$1 (assert-enabled server)"
	local out p f keep="$tree/serverlog/$1"
	as_user mkdir -p "$keep"
	printf "logging_collector = on\nlog_directory = '%s'\n" "$keep" | as_user tee "$keep.conf" >/dev/null
	out=$(cd "$tree" && as_user make -s "$2" PG_CONFIG="$PG_CONFIG" EXTRA_REGRESS_OPTS="--temp-config=$keep.conf" \
		2>&1) || true
	echo "$out" | grep -vE '^\s*$' | tail -n 30 || true
	if [[ $out =~ All\ ([0-9]+)\ tests\ passed ]]; then
		p=${BASH_REMATCH[1]} f=0
	elif [[ $out =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ failed ]]; then
		p=$((BASH_REMATCH[2] - BASH_REMATCH[1])) f=${BASH_REMATCH[1]}
	elif [[ $out =~ Files=[0-9]+,\ Tests=([0-9]+) ]] && echo "$out" | grep -q '^Result: PASS'; then
		p=${BASH_REMATCH[1]} f=0
	else
		p=0 f=1
	fi
	[ "$p" -gt 0 ] || f=$((f > 0 ? f : 1))  # a suite that ran nothing did not pass
	# A failed assertion aborts its backend (SIGABRT): say so even when the test's expected output hid
	# it. The crash tests' own kill -9 is signal 9, not counted.
	if grep -rlsE "TRAP: |terminated by signal (6|11)" "$3" 2>/dev/null | grep .; then
		echo "$1: a backend failed an assertion or crashed (logs above)"
		f=$((f + 1))
	fi
	passed=$((passed + p)) failed=$((failed + f))
	echo "$1: $p passed, $f failed"
}
suite regress installcheck-regress "$tree/serverlog/regress"
suite isolation installcheck-isolation "$tree/serverlog/isolation"
suite tap installcheck-tap "$tree/tmp_check/log"

say "summary (assert-enabled server)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
