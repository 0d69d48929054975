"""pytest fixtures for plexus system tests (network namespaces, daemons).

Run as root:  python3 -m pytest -v tests/system
  PLEXUS_BIN=/path/to/plexus   the binary under test (default: newest build/*/src/cli/plexus)
  PLXT_KEEP=1                  keep scratch directories (configs, keys, daemon logs)
  -m harness                   only the wireguard-go <-> wireguard-go tests that check
                               this harness itself (no plexus binary needed)

On a failure the log of every daemon that ran during the test is attached to
the report. Namespaces are named plxt-<pytest pid>-<n>-<a|b>; leftovers of a
killed run (whose pid is gone) are removed at the start of the next run.
"""

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import netns  # noqa: E402

LOG_TAIL = 12000


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "harness: wireguard-go <-> wireguard-go runs that validate the test "
        "harness itself, not plexus")


def pytest_sessionstart(session):
    if netns.is_root():
        netns.clean_stale()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    item._plxt_t0 = time.time()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    if report.failed:
        t0 = getattr(item, "_plxt_t0", 0)
        for d in netns.daemons_between(t0, time.time()):
            text = d.log_text()
            if len(text) > LOG_TAIL:
                text = "...\n" + text[-LOG_TAIL:]
            state = "running" if d.alive() else f"exited {d.proc.returncode}"
            report.sections.append(
                (f"daemon {d.label} (pid {d.pid}, {d.ns.name}, {state})", text))


@pytest.fixture(scope="session", autouse=True)
def _require_root():
    if not netns.is_root():
        pytest.skip("system tests need root (network namespaces, TUN devices)")


@pytest.fixture(scope="session")
def plexus_bin():
    """Path of the plexus binary, or None when it is not built."""
    return netns.find_plexus()


@pytest.fixture(scope="session")
def require_plexus(plexus_bin):
    if not plexus_bin:
        pytest.fail("plexus binary not found: set PLEXUS_BIN or build it "
                    "(cmake --preset release && cmake --build build/release --target plexus)")
    return plexus_bin


@pytest.fixture
def lab(plexus_bin, request):
    """A fresh namespace pair (function scope); removed after the test."""
    lab = netns.Lab(plexus_bin)
    yield lab
    lab.close(keep_files=netns.failed_in(request))


@pytest.fixture(scope="module")
def module_lab(plexus_bin):
    """A namespace pair shared by the tests of one module."""
    lab = netns.Lab(plexus_bin)
    yield lab
    lab.close()
