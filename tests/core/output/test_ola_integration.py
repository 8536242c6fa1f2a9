"""Art-Net and sACN against a real receiver: Debian's OLA daemon (olad).

Network rule: olad only ever runs inside a network namespace this module
creates (``luma-test-<pid>``: loopback up, plus a veth pair with both ends
inside, 10.77.0.1/24 and 10.77.0.2/24), as the unprivileged user ``olad``,
with a config folder in which every OLA plugin is disabled except the one
under test. The sender runs inside the namespace too (``ola_helper.py``), so
no packet of these tests ever reaches a real network. olad is stopped by its
pid and the namespace deleted in fixture finalizers, also when a test fails.

Needs root (to create the namespace), ``ip``, ``setpriv``, olad and the OLA
command-line tools, and the ``olad`` user; otherwise the tests are skipped with
the reason.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HELPER = Path(__file__).with_name("ola_helper.py")
HTTP_PORT = 9090  # olad's defaults: nothing else listens inside the namespace
TOOLS = ("ip", "setpriv", "olad", "ola_patch", "ola_dev_info")
# the config names of every plugin in OLA 0.10 (ola-<name>.conf); olad writes a
# default (enabled) config for any plugin without one, so each gets "enabled = false"
PLUGINS = ("artnet", "dummy", "e131", "espnet", "ftdidmx", "gpio", "karate", "kinet", "milinst", "opendmx",
           "openpixelcontrol", "osc", "pathport", "renard", "sandnet", "shownet", "spi", "stageprofi", "uartdmx",
           "usbdmx", "usbserial")
FRAMES = 100


def _missing_requirement() -> str | None:
    if not sys.platform.startswith("linux"):
        return "needs Linux network namespaces"
    if os.geteuid() != 0:
        return "needs root to create a network namespace (run the tests as root to include OLA)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"needs {', '.join(missing)} (apt install ola iproute2 util-linux)"
    try:
        pwd.getpwnam("olad")
    except KeyError:
        return "needs the 'olad' user (made by Debian's ola package)"
    return None


def _run(*cmd: str, timeout: float = 10.0, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


@pytest.fixture(scope="module")
def netns():
    reason = _missing_requirement()
    if reason:
        print(f"OLA integration skipped: {reason}")
        pytest.skip(reason)
    name = f"luma-test-{os.getpid()}"
    made = _run("ip", "netns", "add", name, check=False)
    if made.returncode != 0:
        reason = f"cannot create a network namespace: {made.stderr.strip()}"
        print(f"OLA integration skipped: {reason}")
        pytest.skip(reason)
    try:
        _run("ip", "-n", name, "link", "set", "lo", "up")
        _run("ip", "-n", name, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1")
        _run("ip", "-n", name, "addr", "add", "10.77.0.1/24", "dev", "veth0")
        _run("ip", "-n", name, "addr", "add", "10.77.0.2/24", "dev", "veth1")
        _run("ip", "-n", name, "link", "set", "veth0", "up")
        _run("ip", "-n", name, "link", "set", "veth1", "up")
        yield name
    finally:
        _run("ip", "netns", "del", name, check=False)


class Olad:
    """One olad inside the namespace, with a single plugin enabled."""

    def __init__(self, ns: str, plugin: str, settings: dict[str, str]):
        self.ns = ns
        self.plugin = plugin
        user = pwd.getpwnam("olad")
        self.conf = Path(tempfile.mkdtemp(prefix="luma-ola-conf-"))
        for name in PLUGINS:
            (self.conf / f"ola-{name}.conf").write_text("enabled = false\n")
        lines = ["enabled = true"] + [f"{k} = {v}" for k, v in settings.items()]
        (self.conf / f"ola-{plugin}.conf").write_text("\n".join(lines) + "\n")
        for path in [self.conf, *self.conf.iterdir()]:
            os.chown(path, user.pw_uid, user.pw_gid)
        self.log_path = Path(tempfile.mkstemp(prefix="luma-olad-", suffix=".log")[1])
        self.command = ["ip", "netns", "exec", ns, "setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                        "--clear-groups", "olad", "-c", str(self.conf), "--no-register-with-dns-sd",
                        "--no-http-quit", "-i", "127.0.0.1", "-p", str(HTTP_PORT), "-l", "3"]
        with open(self.log_path, "wb") as log:
            # ip netns exec and setpriv exec olad: this pid is olad's own
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, cwd=self.conf)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def in_ns(self, *cmd: str, timeout: float = 10.0) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", self.ns, *cmd], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)

    def http(self, path: str) -> str:
        out = self.in_ns(sys.executable, str(HELPER), "get", f"http://127.0.0.1:{HTTP_PORT}{path}")
        assert out.returncode == 0, out.stderr
        return out.stdout

    def wait_for_device(self, timeout: float = 10.0) -> int:
        """The id of the plugin's device, once olad answers."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                pytest.fail(f"olad exited with {self.proc.returncode}:\n{self.log()}")
            out = self.in_ns("ola_dev_info")
            found = re.search(r"^Device (\d+):", out.stdout, re.M)
            if out.returncode == 0 and found:
                return int(found.group(1))
            time.sleep(0.1)
        pytest.fail(f"olad did not show a device within {timeout} s:\n{self.log()}")

    def active_plugins(self) -> list[str]:
        plugins = json.loads(self.http("/json/universe_plugin_list"))["plugins"]
        return [p["name"] for p in plugins if p.get("active") or p.get("enabled")]

    def patch_input(self, device: int, universe: int) -> None:
        out = self.in_ns("ola_patch", "-d", str(device), "-p", "0", "-i", "-u", str(universe))
        assert out.returncode == 0, f"ola_patch failed: {out.stderr}\n{self.log()}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.conf, ignore_errors=True)
        self.log_path.unlink(missing_ok=True)


@pytest.fixture
def olad(netns):
    started: list[Olad] = []

    def start(plugin: str, settings: dict[str, str]) -> Olad:
        daemon = Olad(netns, plugin, settings)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.stop()


def _send_through(daemon: Olad, url: str, show_universe: int, ola_universe: int) -> dict:
    out = daemon.in_ns(sys.executable, str(HELPER), "send", url, str(show_universe), str(ola_universe),
                       str(FRAMES), str(HTTP_PORT), timeout=20)
    assert out.returncode == 0, f"sender failed:\n{out.stdout}\n{out.stderr}\n{daemon.log()}"
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(30)
def test_artnet_frames_reach_olad(olad):
    daemon = olad("artnet", {"ip": "127.0.0.1", "use_loopback": "true"})
    device = daemon.wait_for_device()
    assert daemon.active_plugins() == ["ArtNet"], "only the plugin under test may run"
    daemon.patch_input(device, 1)  # OLA universe 1 <- Art-Net port-address 0:0:1
    # no universe in the URL: show universe 2 goes to port-address 0:0:1; ArtSync after each frame
    result = _send_through(daemon, "artnet://127.0.0.1?sync=1", show_universe=2, ola_universe=1)
    assert result["first_bad"] is None, result
    assert result["matched"] == FRAMES
    assert result["final_equals_last"]


@pytest.mark.timeout(30)
def test_sacn_frames_reach_olad(olad):
    daemon = olad("e131", {"ip": "10.77.0.2"})
    device = daemon.wait_for_device()
    assert daemon.active_plugins() == ["E1.31 (sACN)"], "only the plugin under test may run"
    daemon.patch_input(device, 3)  # OLA universe 3 <- sACN universe 3
    result = _send_through(daemon, "sacn://10.77.0.2?universe=3&name=Luma+OLA+test", show_universe=1,
                           ola_universe=3)
    assert result["first_bad"] is None, result
    assert result["matched"] == FRAMES
    assert result["final_equals_last"]
