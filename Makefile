# The README's two commands: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000
CHROMIUM := /usr/lib/chromium/chromium
VENDOR := static/vendor/htmx.min.js static/vendor/idb.js static/vendor/signature_pad.js \
	static/vendor/fonts/DejaVuSans.ttf static/vendor/fonts/DejaVuSans-Bold.ttf \
	static/vendor/json-schema/index.js \
	$(patsubst %,static/vendor/fonts/Noto%_400Regular.ttf,SansSC SansKR SansArabic Emoji) \
	static/vendor/signature-font.js
BUNDLE := static/build/meta.json

.PHONY: run test setup vendor bundle browser lint bench bench-long icons screens clean

run: setup
	$(VENV)/bin/flask --app app init-db
	$(VENV)/bin/flask --app app seed-demo --if-empty
	$(VENV)/bin/flask --app app run --host 127.0.0.1 --port $(PORT)

test: setup browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n 2 --dist loadgroup

setup: $(VENV)/.installed vendor bundle

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

vendor: $(VENDOR)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

static/vendor/htmx.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

static/vendor/idb.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/idb/build/index.js $@

static/vendor/signature_pad.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/signature_pad/dist/signature_pad.js $@

# @cfworker/json-schema: ES modules with no eval, so the tablet checks the same schema file.
static/vendor/json-schema/index.js: node_modules/.package-lock.json
	mkdir -p static/vendor/json-schema
	cp node_modules/@cfworker/json-schema/dist/esm/*.js static/vendor/json-schema/

# One Hershey script font, re-encoded small, for signing by typing a name (static/js/typed-signature.js).
static/vendor/signature-font.js: node_modules/.package-lock.json tools/signature_font.py
	$(PYTHON) tools/signature_font.py

static/vendor/fonts/DejaVuSans.ttf: node_modules/.package-lock.json
	mkdir -p static/vendor/fonts
	cp node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf $@

static/vendor/fonts/DejaVuSans-Bold.ttf: node_modules/.package-lock.json
	mkdir -p static/vendor/fonts
	cp node_modules/dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf $@

# The tablet's modules bundled and minified by esbuild: one module for the page, which a
# reload reads at once (a file per module, even from the cache, cost it a fifth of its time),
# and the schema validator as a chunk loaded at first signing. The service worker's outbox is
# bundled on its own into build/worker/ (not precached: the worker loads it itself).
# The tests rebuild it when a module is newer (tests/conftest.py).
bundle: $(BUNDLE)

$(BUNDLE): node_modules/.package-lock.json $(VENDOR) $(wildcard static/js/*.js)
	rm -rf static/build
	node_modules/.bin/esbuild static/js/tablet.js --bundle --splitting --format=esm --minify \
	  --sourcemap --outdir=static/build --chunk-names=[name]-[hash] --metafile=$@ --log-level=warning
	node_modules/.bin/esbuild static/js/outbox.js --bundle --format=esm --minify --sourcemap \
	  --outdir=static/build/worker --log-level=warning

# Noto for what DejaVu lacks in a PDF (Chinese, Japanese, Korean, Arabic, emoji): embedded
# as subsets, only when a record needs them (webapp/evidence/pdf.py).
static/vendor/fonts/Noto%_400Regular.ttf: node_modules/.package-lock.json
	mkdir -p static/vendor/fonts
	cp node_modules/@expo-google-fonts/*/400Regular/Noto$*_400Regular.ttf $@

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@test -x $(CHROMIUM) || { \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The PNG icons (committed) drawn again from static/icons/icon.svg in Chromium.
icons: setup browser
	$(PY) tools/icons.py

# The documentation's screenshots of the evidence page and the PDF's first page (committed),
# taken again from the demo organisation in Chromium and PDFium: docs/screens/.
screens: setup browser
	$(PY) tools/screens.py

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/sync_push.py
	$(PY) bench/merge_throughput.py
	$(PY) bench/pull.py
	$(PY) bench/load.py
	$(PY) bench/crash.py
	$(PY) bench/tablet_load.py
	$(PY) bench/review.py
	$(PY) bench/pdf_render.py

# The long runs of the suite's short property, fuzz and crash tests (tens of minutes): the
# merge properties with thousands of generated worlds each, 2,000 generated pushes, and 1,000
# ops with twenty kills of the real server. It stops at the first run that fails.
bench-long: setup
	HYPOTHESIS_PROFILE=long $(VENV)/bin/pytest -q -p no:xdist tests/unit/test_merge_properties.py
	$(PY) bench/fuzz.py
	$(PY) bench/crash.py

clean:
	rm -rf $(VENV) node_modules static/vendor static/build
