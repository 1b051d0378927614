# PGXS build of the dlq extension. `make` builds, `make install` installs (root), `make test` and
# `make demo` are the two README commands (they set up everything on a fresh Debian machine).
EXTENSION  = dlq
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" dlq.control)
MODULE_big = dlq
CORE_SRCS  = $(sort $(wildcard src/core/*.cpp))
PG_SRCS    = $(sort $(wildcard src/pg/*.cpp))
OBJS       = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)
SQL_SRCS   = $(sort $(wildcard src/sql/[0-9]*.sql))
DATA_built = dlq--$(EXTVERSION).sql
DATA       = $(wildcard src/sql/updates/dlq--*--*.sql)

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -Isrc
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-register -Wno-missing-field-initializers $(DLQ_WERROR) $(DLQ_CXXFLAGS)
SHLIB_LINK  = -lstdc++

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --temp-config=test/regress.conf --no-locale --encoding=UTF8
ISOLATION      = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --temp-config=test/regress.conf
PROVE_TESTS = test/t/*.pl
EXTRA_CLEAN = dlq--$(EXTVERSION).sql results regression.diffs regression.out output_iso tmp_check tmp_check_regress tmp_check_iso

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Debian's PGXS also emits LLVM bitcode with clang; that step ignores PG_CXXFLAGS and would compile
# C++17 code as gnu++14 (see shared/research/model-extensions.md).
COMPILE.cxx.bc += $(PG_CXXFLAGS)

dlq--$(EXTVERSION).sql: $(SQL_SRCS) dlq.control
	cat $(SQL_SRCS) > $@

$(OBJS): $(wildcard src/core/*.hpp src/pg/*.hpp)

.PHONY: test demo bench
test:
	bash test/scripts/run_all.sh
demo:
	bash test/scripts/demo.sh

# Suites run separately by test/scripts/run_all.sh (PGXS's installcheck runs them all at once).
.PHONY: installcheck-regress installcheck-isolation installcheck-tap
installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) --temp-instance=./tmp_check_regress $(REGRESS)
installcheck-isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) --temp-instance=./tmp_check_iso $(ISOLATION)
installcheck-tap:
	$(prove_installcheck)

bench:
	bash bench/run.sh
