# hark — thin wrappers around the Swift package manager and the lab scripts.
PREFIX ?= /usr/local
SWIFT ?= swift
BIN_DEBUG := .build/debug/hark

.PHONY: all build deps test unit-test lint lab-test scale demo bench fuzz fuzz-build fuzz-seeds install uninstall proto man completions clean

all: build

## deps: install the Debian packages hark needs to build, test and run the lab (root)
deps:
	scripts/deps.sh

build:
	$(SWIFT) build

## test: unit, interop and in-process node tests, then the multi-host lab tests (root)
test: deps
	scripts/check-test-commands.sh
	scripts/check-format.sh
	scripts/test-setup.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	tests/cli.sh
	tests/shortlived.sh
	tests/slow-read.sh
	tests/service.sh
	tests/shell.sh
	tests/examples.sh
	tests/chat_tmux.sh
	scripts/check-docs-current.sh
	scripts/test-discovery-live.sh
	scripts/test-discovery-2host.sh
	tests/lab/two-host.sh
	tests/lab/doctor.sh
	tests/lab/replication.sh
	tests/lab/realtime.sh
	tests/lab/roaming.sh
	tests/lab/trust.sh
	tests/lab/names.sh
	tests/lab/files.sh
	tests/lab/groups.sh
	tests/lab/join-code.sh
	tests/lab/conversation.sh
	tests/lab/history-share.sh
	tests/lab/flood.sh
	SCALE_FLOOD_HOSTS=h6 SCALE_EAGER_HOSTS=h5 tests/lab/scale.sh 6
	@echo "make test: every suite passed"

## lint: swift-format lint with .swift-format (force unwraps, try!, import order; not layout)
lint:
	scripts/check-format.sh

unit-test:
	scripts/test-setup.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

lab-test: build
	tests/lab/two-host.sh
	tests/lab/doctor.sh
	tests/lab/replication.sh
	tests/lab/realtime.sh
	tests/lab/roaming.sh
	tests/lab/trust.sh
	tests/lab/names.sh
	tests/lab/files.sh
	tests/lab/groups.sh
	tests/lab/join-code.sh
	tests/lab/conversation.sh
	tests/lab/history-share.sh
	tests/lab/flood.sh
	SCALE_FLOOD_HOSTS=h6 SCALE_EAGER_HOSTS=h5 tests/lab/scale.sh 6
	@echo "make lab-test: every lab suite passed"

## scale: one group of 5, 10, 20 and 50 members on one lab LAN (root): bytes on the wire and daemon
## CPU per delivered event, connection, group, load and heal times, lost/duplicated/order checks
## (SCALE_SIZES to choose the sizes, SCALE_SENDS messages per member; tests/lab/scale.sh), with the
## release build (CPU figures of a debug build mean little)
SCALE_SIZES ?= 5 10 20 50
scale: deps
	$(SWIFT) build -c release --product hark
	$(SWIFT) build -c release --product hark-node
	HARK_BIN=$(CURDIR)/.build/release/hark tests/lab/scale.sh $(SCALE_SIZES)

## demo: two hosts in network namespaces find each other through Avahi and chat (root)
demo: deps
	$(SWIFT) build
	scripts/demo.sh

## bench: benchmarks in release mode, printing ratios against baselines measured in the same run
## (the static-stdlib build that `make install` ships; the discovery bench needs root and the lab)
RELEASE_FLAGS := -c release --static-swift-stdlib
bench: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product hark
	$(SWIFT) build $(RELEASE_FLAGS) --product hark-node
	$(SWIFT) build $(RELEASE_FLAGS) --product hark-bench
	scripts/bench.sh

## fuzz: build the libFuzzer target (Fuzz/, -sanitize=fuzzer,address) and run it for FUZZ_SECONDS
## over Fuzz/corpus; fails if it finds a crash, and merges new coverage into the corpus while small
FUZZ_SECONDS ?= 60
FUZZ_SCRATCH := .build-fuzz
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

fuzz-build:
	@if [ -f Package.resolved ] && [ ! -f Fuzz/Package.resolved ]; then cp Package.resolved Fuzz/Package.resolved; fi
	cd Fuzz && $(SWIFT) build -c debug --product hark-fuzz -Xswiftc -sanitize=fuzzer,address --scratch-path ../$(FUZZ_SCRATCH)

## fuzz-seeds: regenerate the seed inputs Fuzz/corpus/seed-* from fixed keys
fuzz-seeds: fuzz-build
	HARK_FUZZ_WRITE_SEEDS=Fuzz/corpus $(FUZZ_SCRATCH)/debug/hark-fuzz

## install: release binaries (hark, the small client, and hark-node beside it, which hark execs
## for everything but a send to a running daemon), man pages, shell completions and the systemd
## units under $(DESTDIR)$(PREFIX); the units' ExecStart points at $(PREFIX)/bin/hark-node. The
## binaries link the Swift runtime and Foundation statically (libsodium, libavahi-client,
## libsqlite3 stay system libraries): a CLI call starts faster, and no Swift toolchain is needed
## on the target
BASHCOMPDIR := $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR := $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR := $(PREFIX)/share/fish/vendor_completions.d
MAN1DIR := $(PREFIX)/share/man/man1
USERUNITDIR := $(PREFIX)/lib/systemd/user
SYSUNITDIR := $(PREFIX)/lib/systemd/system
install:
	$(SWIFT) build $(RELEASE_FLAGS) --product hark
	$(SWIFT) build $(RELEASE_FLAGS) --product hark-node
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(USERUNITDIR) $(DESTDIR)$(SYSUNITDIR)
	install -m 0755 .build/release/hark $(DESTDIR)$(PREFIX)/bin/hark
	install -m 0755 .build/release/hark-node $(DESTDIR)$(PREFIX)/bin/hark-node
	install -m 0644 man/*.1 $(DESTDIR)$(MAN1DIR)/
	install -m 0644 completions/hark.bash $(DESTDIR)$(BASHCOMPDIR)/hark
	install -m 0644 completions/_hark $(DESTDIR)$(ZSHCOMPDIR)/_hark
	install -m 0644 completions/hark.fish $(DESTDIR)$(FISHCOMPDIR)/hark.fish
	sed 's|/usr/local/bin/hark|$(PREFIX)/bin/hark|g' examples/hark.service >$(DESTDIR)$(USERUNITDIR)/hark.service
	sed 's|/usr/local/bin/hark|$(PREFIX)/bin/hark|g' examples/hark@.service >$(DESTDIR)$(SYSUNITDIR)/hark@.service
	chmod 0644 $(DESTDIR)$(USERUNITDIR)/hark.service $(DESTDIR)$(SYSUNITDIR)/hark@.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hark $(DESTDIR)$(PREFIX)/bin/hark-node $(addprefix $(DESTDIR)$(MAN1DIR)/,$(notdir $(wildcard man/*.1)))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/hark $(DESTDIR)$(ZSHCOMPDIR)/_hark $(DESTDIR)$(FISHCOMPDIR)/hark.fish
	rm -f $(DESTDIR)$(USERUNITDIR)/hark.service $(DESTDIR)$(SYSUNITDIR)/hark@.service

## proto: regenerate Sources/HarkEventProto from proto/event.proto and Sources/HarkWireProto from
## proto/wire.proto (needs protoc and protoc-gen-swift 1.39.0: on PATH, or PROTOC_GEN_SWIFT=PATH);
## wire.pb.swift imports HarkEventProto through proto/swift-module-mappings.asciipb
PROTOC ?= protoc
PROTOC_GEN_SWIFT ?= $(shell command -v protoc-gen-swift)
PROTO_SWIFT = $(PROTOC) --plugin=protoc-gen-swift=$(PROTOC_GEN_SWIFT) --proto_path=proto --swift_opt=Visibility=Public
proto:
	@[ -x "$(PROTOC_GEN_SWIFT)" ] || { echo "make proto: protoc-gen-swift not found (set PROTOC_GEN_SWIFT=PATH)" >&2; exit 69; }
	$(PROTO_SWIFT) --swift_out=Sources/HarkEventProto event.proto
	$(PROTO_SWIFT) --swift_out=Sources/HarkWireProto \
		--swift_opt=ProtoPathModuleMappings=proto/swift-module-mappings.asciipb wire.proto

## man: regenerate man/*.1 from the command tree (swift-argument-parser's generate-manual)
man:
	$(SWIFT) package --allow-writing-to-package-directory generate-manual --multi-page
	rm -f man/*.1
	cp .build/plugins/GenerateManual/outputs/hark-node/*.1 man/
	rm -f man/hark.help.1
	scripts/man-tidy.sh man/*.1

## completions: regenerate completions/ (bash, zsh, fish) from the command tree
completions: build
	mkdir -p completions
	$(BIN_DEBUG) --generate-completion-script bash >completions/hark.bash.tmp && mv completions/hark.bash.tmp completions/hark.bash
	$(BIN_DEBUG) --generate-completion-script zsh >completions/_hark.tmp && mv completions/_hark.tmp completions/_hark
	$(BIN_DEBUG) --generate-completion-script fish >completions/hark.fish.tmp && mv completions/hark.fish.tmp completions/hark.fish

clean:
	rm -rf .build .build-fuzz
