"""The dashboard's websocket frame guard (``dashboards/guard.py``) and the server's memory ceiling.

Solara 1.64.1 decodes a binary websocket frame by reading a part count n from its first 4 bytes and
compiling ``"!" + "I" * n`` with no check: one 4-byte frame made the server allocate gigabytes and keep
them (issue 13, finding 1). The unit tests call the guarded decoder in this process under a lowered
address-space limit, so that a guard that let such a frame through fails the test (MemoryError or
struct.error) instead of filling the machine. The fuzz test starts ``coprod dashboard`` with a 3 GiB
ceiling, sends short and malformed binary frames to kernel websockets opened as the browser opens them,
and checks that the server's memory stays put and that it still answers, a page and a kernel message.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import random
import resource
import struct
import subprocess
import sys
import time
import tracemalloc
import urllib.request
import uuid
from argparse import Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
import solara.server.kernel as solara_kernel
import solara.server.server as solara_server
import websockets
from coprod.dashboards import guard
from coprod.dashboards.serve import (
    CEILING_OPTION,
    MEMORY_CEILING_MB,
    MEMORY_VARIABLE,
    command,
    main_dashboard,
    memory_ceiling_mb,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.server import serving

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024
ISSUE_FRAME = bytes.fromhex("7fffffff")  # the 4-byte frame of the issue: 2 Gi parts claimed
KEPT_FRAME = bytes.fromhex("04000000")  # 64 Mi parts: before the guard, 2.3 GB compiled and kept


def _run(coroutine_function, *args):
    """``asyncio.run`` in a thread of its own: the browser tests (Playwright's sync API) can leave an event
    loop running in this thread, where ``asyncio.run`` refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function(*args))).result()


def frame(*parts: bytes, count: int | None = None, offsets: list[int] | None = None) -> bytes:
    """A binary frame in Solara's layout: part count, offsets, parts; ``count``/``offsets`` override."""
    n = len(parts) if count is None else count
    if offsets is None:
        offsets = [4 * (n + 1)]
        for part in parts[:-1]:
            offsets.append(offsets[-1] + len(part))
    return struct.pack(f"!i{len(offsets)}I", n, *offsets) + b"".join(parts)


def message(msg_type: str = "comm_msg", **content) -> dict:
    return {
        "header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": "s", "version": "5.3"},
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": "shell",
    }


@contextmanager
def memory_headroom(extra: int = 512 * MiB) -> Iterator[None]:
    """Lower this process's address-space limit to what it uses now plus ``extra`` for the block: a guard
    that let a huge part count through makes the block fail with MemoryError, not fill the machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = psutil.Process().memory_info().vms
    resource.setrlimit(resource.RLIMIT_AS, (used + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def refused(data) -> str:
    """The reason the guarded decoder gives for refusing ``data`` (the test fails if it decodes it)."""
    tracemalloc.start()
    try:
        with memory_headroom(), pytest.raises(guard.BadFrame) as caught:
            guard.guarded_decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MiB, f"refusing a {len(data)}-byte frame took {peak} bytes"
    return str(caught.value)


# ------------------------------------------------------------------------------- the patched function


def test_the_guard_is_in_the_place_solara_1_64_1_decodes_binary_frames():
    """The function guarded is Solara's own decoder, and the receive loop calls the guarded one."""
    assert guard.DECODE.__module__ == "solara.server.kernel"
    assert guard.DECODE.__name__ == "deserialize_binary_message"
    assert "solara.server.server" in sys.modules  # imported above: install() must patch its bound name
    guard.install()
    guard.install()  # twice is harmless
    assert guard.installed()
    assert solara_server.deserialize_binary_message is guard.guarded_decode
    assert solara_kernel.deserialize_binary_message is guard.guarded_decode
    assert guard.guarded_decode.__wrapped__ is guard.DECODE


def test_solara_still_decodes_without_a_check():
    """While this holds, the guard is needed: Solara's decoder compiles a format as long as the part
    count says (here 1 Mi parts, 32 MB of compiled format), whatever the frame's length. When a Solara
    upgrade checks the count itself, this fails: the guard may then be kept or dropped, knowingly."""
    tracemalloc.start()
    try:
        with memory_headroom(), pytest.raises(struct.error):
            guard.DECODE(struct.pack("!i", 1024 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        struct._clearcache()  # let the 32 MB go
    assert peak > 16 * MiB


# --------------------------------------------------------------------------------- refused frames


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x00\x00", b"\x7f\xff\xff"], ids=lambda d: f"{len(d)}B")
def test_a_frame_shorter_than_the_part_count_is_refused(data):
    assert "shorter than the 4-byte part count" in refused(data)


@pytest.mark.parametrize(
    ("hex_count", "reason"),
    [
        ("7fffffff", "over the 4096 allowed"),  # the issue's frame
        ("04000000", "over the 4096 allowed"),
        ("00001000", "needs a 16388-byte header"),  # 4096 parts, the most allowed, in 4 bytes
        ("00000001", "needs a 8-byte header"),
        ("00000000", "a message has at least its JSON part"),
        ("ffffffff", "part count -1"),
        ("80000000", "part count -2147483648"),
    ],
)
def test_a_4_byte_frame_is_refused(hex_count, reason):
    assert reason in refused(bytes.fromhex(hex_count))


def test_a_part_count_larger_than_the_frame_holds_is_refused():
    data = frame(b'{"a": 1}', b"xx", count=600)
    assert "part count 600 needs a 2404-byte header, the frame has" in refused(data)


def test_a_consistent_frame_with_more_parts_than_allowed_is_refused():
    """4097 empty parts fit their frame, but Solara would compile (and keep) a 4097-letter format."""
    count = guard.MAX_BUFFERS + 1
    header = 4 * (count + 1)
    assert "part count 4097 is over the 4096 allowed" in refused(frame(count=count, offsets=[header] * count))
    with memory_headroom(), pytest.raises(json.JSONDecodeError):  # the most allowed reaches Solara
        guard.guarded_decode(frame(count=count - 1, offsets=[header - 4] * (count - 1)))


@pytest.mark.parametrize(
    ("offsets", "reason"),
    [
        ([20, 16], "offset 1 is 16, outside 20..30"),  # out of order
        ([8, 20], "offset 0 is 8, outside 12..30"),  # inside the header
        ([12, 31], "offset 1 is 31, outside 12..30"),  # past the end
        ([12, 0xFFFFFFFF], "offset 1 is 4294967295, outside 12..30"),
    ],
)
def test_offsets_out_of_order_or_out_of_the_frame_are_refused(offsets, reason):
    data = frame(b'{"a": 1}', b"0123456789", offsets=offsets)
    assert len(data) == 30
    assert reason in refused(data)


def test_random_1000_byte_frames_are_refused_in_constant_memory():
    rng = random.Random(13)
    for _ in range(200):
        data = rng.randbytes(1000)
        if 1 <= struct.unpack_from("!i", data)[0] <= 249:  # a count the frame could hold: 1 in 17 million
            continue
        refused(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_frame_is_refused_or_within_its_bounds(data):
    """Whatever the bytes, a frame the guard lets through has a count from 1 to 4096 whose header and
    offsets fit the frame: Solara's decoder then compiles at most as many letters as the frame has."""
    try:
        guard.check_frame(data)
    except guard.BadFrame:
        return
    (count,) = struct.unpack_from("!i", data)
    assert 1 <= count <= guard.MAX_BUFFERS and 4 * (count + 1) <= len(data)
    offsets = struct.unpack_from(f"!{count}I", data, 4)
    assert list(offsets) == sorted(offsets) and 4 * (count + 1) <= offsets[0] and offsets[-1] <= len(data)


def test_a_refused_frame_is_logged_in_one_line_and_never_decoded(caplog, monkeypatch):
    decoded = []
    monkeypatch.setattr(guard, "DECODE", decoded.append)
    with pytest.raises(guard.BadFrame):
        guard.guarded_decode(ISSUE_FRAME)
    assert decoded == []
    (record,) = [r for r in caplog.records if r.name == "coprod.dashboard.guard"]
    assert record.getMessage() == (
        "dashboard: refused a binary websocket frame and closed its connection: "
        "part count 2147483647 is over the 4096 allowed"
    )


def test_uvicorn_leaves_out_its_traceback_for_a_refused_frame_only():
    guard.install()
    quiet = guard._QUIET
    assert quiet in logging.getLogger("uvicorn.error").filters

    def record(error: BaseException) -> logging.LogRecord:
        try:
            raise error
        except BaseException:
            return logging.LogRecord("uvicorn.error", logging.ERROR, "", 0, "x", (), sys.exc_info())

    try:
        guard.guarded_decode(b"")
    except guard.BadFrame as bad:
        grouped = BaseExceptionGroup("unhandled errors in a TaskGroup", [bad])
    assert not quiet.filter(record(grouped))
    assert not quiet.filter(record(guard.BadFrame("x")))
    assert quiet.filter(record(ValueError("something else")))


# ------------------------------------------------------------------------------------ valid frames


@pytest.mark.parametrize(
    "buffers",
    [[], [b"\x00\x01\x02"], [b"", b"abc", b""], [memoryview(b"0123456789"), bytes(range(256)) * 40]],
    ids=["no buffers", "one buffer", "empty buffers", "large buffers"],
)
def test_a_valid_frame_decodes_exactly_as_solara_decodes_it(buffers):
    msg = {**message(comm_id="c1", data={"method": "update", "state": {"x": 1}}), "buffers": buffers}
    data = solara_kernel.serialize_binary_message(msg)
    ours, theirs = guard.guarded_decode(data), guard.DECODE(data)
    assert ours == theirs
    assert ours["content"] == msg["content"] and [bytes(b) for b in ours["buffers"]] == [
        bytes(b) for b in buffers
    ]
    assert guard.guarded_decode(bytearray(data)) == guard.DECODE(bytearray(data))


def test_a_frame_built_by_hand_in_the_browser_layout_decodes():
    """The layout the Jupyter front end writes: first offset right after the header, parts in order."""
    body = json.dumps(message("comm_msg", comm_id="c2", data={})).encode()
    data = frame(body, b"\xff" * 7, b"")
    assert guard.guarded_decode(data) == guard.DECODE(data)
    assert guard.guarded_decode(data)["buffers"] == [b"\xff" * 7, b""]


# ------------------------------------------------------------------------------------ the ceiling


def test_the_server_command_runs_this_module_with_the_ceiling():
    line = command("127.0.0.1", 8765)
    assert line[1:5] == ["-m", "coprod.dashboards.serve", CEILING_OPTION, str(MEMORY_CEILING_MB)]
    assert MEMORY_CEILING_MB == 8192


@pytest.mark.parametrize(
    ("given_value", "ceiling"), [(None, 8192), ("", 8192), ("3072", 3072), (" 0 ", 0), ("1024", 1024)]
)
def test_the_ceiling_can_be_set_by_environment(given_value, ceiling):
    environ = {} if given_value is None else {MEMORY_VARIABLE: given_value}
    assert memory_ceiling_mb(environ) == ceiling


@pytest.mark.parametrize("given_value", ["512", "-1", "3GB", "1.5"])
def test_a_ceiling_the_server_cannot_start_under_is_refused(given_value, monkeypatch, capsys):
    with pytest.raises(ValueError, match="at least 1024, or 0 for no ceiling"):
        memory_ceiling_mb({MEMORY_VARIABLE: given_value})
    started = []
    monkeypatch.setattr(subprocess, "call", lambda line: started.append(line) or 0)
    monkeypatch.setenv(MEMORY_VARIABLE, given_value)
    assert main_dashboard(Namespace(port=8765, host="127.0.0.1")) == 2 and started == []
    assert f"{MEMORY_VARIABLE} must be a whole number" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("given_value", "said"), [("3072", "memory ceiling 3 GiB"), ("0", "no memory ceiling")]
)
def test_coprod_dashboard_says_and_passes_on_its_ceiling(given_value, said, monkeypatch, capsys):
    started = []
    monkeypatch.setattr(subprocess, "call", lambda line: started.append(line) or 0)
    monkeypatch.setenv(MEMORY_VARIABLE, given_value)
    assert main_dashboard(Namespace(port=8765, host="127.0.0.1")) == 0
    (line,) = started
    assert line[line.index(CEILING_OPTION) + 1] == given_value
    assert f"({said}; Ctrl+C stops it)" in capsys.readouterr().out


# --------------------------------------------------------------------------------- the real server

FUZZ_CEILING_MB = 3072  # a guard that let a frame through could not take more than this from the machine
SERVER_START_SECONDS = 90
GROWTH_ALLOWED = 256 * MiB  # measured: a few MB for the ~50 kernels the fuzzing opens


def fuzz_frames() -> list[bytes]:
    rng = random.Random(2026)
    body = json.dumps(message()).encode()
    frames = [b"", b"\x00", b"\x00\x00", b"\xff\xff\xff", ISSUE_FRAME, KEPT_FRAME]
    frames += [bytes.fromhex(h) for h in ("02000000", "00100000", "00000000", "ffffffff", "80000000")]
    frames += [struct.pack("!i", rng.randrange(2**31)) for _ in range(4)]
    frames += [
        frame(body, count=300),  # more parts than the frame holds
        frame(body, b"xy", offsets=[16, 12]),  # out of order
        frame(body, b"xy", offsets=[12, 10_000]),  # past the end
        frame(count=5000, offsets=[20_004] * 5000),  # consistent, but more parts than allowed
    ]
    frames += [rng.randbytes(1000) for _ in range(25)]
    frames += [rng.randbytes(rng.randrange(5, 64)) for _ in range(5)]
    return frames


def _rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


async def _send_each(url: str, cookie: str, frames: list[bytes]) -> list[str]:
    """Each frame on a new kernel websocket (a refused frame closes its connection): how each ended."""
    ends = []
    for data in frames:
        address = f"{url}jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}"
        async with websockets.connect(address, additional_headers={"Cookie": cookie}, max_size=None) as ws:
            await ws.send(data)
            try:
                await asyncio.wait_for(ws.recv(), 10)
                ends.append("answered")
            except websockets.ConnectionClosed as closed:
                ends.append(f"closed {closed.rcvd.code if closed.rcvd else None}")
            except TimeoutError:
                ends.append("no answer")
    return ends


async def _kernel_info(url: str, cookie: str) -> dict:
    """A kernel_info_request sent as a binary frame, the browser's way; the reply's content."""
    address = f"{url}jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}"
    async with websockets.connect(address, additional_headers={"Cookie": cookie}, max_size=None) as ws:
        await ws.send(
            solara_kernel.serialize_binary_message({**message("kernel_info_request"), "buffers": []})
        )
        async with asyncio.timeout(20):
            while True:
                answer = await ws.recv()
                msg = guard.DECODE(answer) if isinstance(answer, bytes) else json.loads(answer)
                if msg["header"]["msg_type"] == "kernel_info_reply":
                    return msg["content"]


@contextmanager
def dashboard_server(folder: Path) -> Iterator[tuple[str, int, Path]]:
    """``coprod dashboard`` on a free port with a 3 GiB ceiling: (address, server pid, log); stopped after."""
    (folder / "results").mkdir()
    log_path = folder / "server.log"
    environ = {"COPROD_RESULTS_DIR": str(folder / "results"), MEMORY_VARIABLE: str(FUZZ_CEILING_MB)}
    command = [sys.executable, "-m", "coprod.cli", "dashboard", "--port", "{port}"]
    with serving(
        command,
        log_path,
        env=environ,
        what="the dashboard",
        start_seconds=SERVER_START_SECONDS,
        fail=pytest.fail,
    ) as running:
        (server,) = psutil.Process(running.process.pid).children()
        yield running.url, server.pid, log_path


def _session_cookie(url: str) -> tuple[str, str]:
    """The page, as the browser first asks for it, and the session cookie it sets."""
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.status == 200
        cookies = [c.split(";", 1)[0] for c in answer.headers.get_all("Set-Cookie") or []]
        return answer.read().decode(), "; ".join(cookies)


@pytest.mark.slow
def test_short_and_malformed_frames_leave_the_server_memory_bounded(tmp_path):
    frames = fuzz_frames()
    assert len(frames) >= 45 and ISSUE_FRAME in frames and KEPT_FRAME in frames
    with dashboard_server(tmp_path) as (url, pid, log_path):
        limits = Path(f"/proc/{pid}/limits").read_text()
        ceiling = str(FUZZ_CEILING_MB * MiB)
        assert any(line.startswith("Max address space") and ceiling in line for line in limits.splitlines())
        assert "(memory ceiling 3 GiB; Ctrl+C stops it)" in log_path.read_text()
        _, cookie = _session_cookie(url)
        socket_url = url.replace("http://", "ws://")
        assert _run(_kernel_info, socket_url, cookie)["status"] == "ok"
        before = _rss(pid)

        ends = _run(_send_each, socket_url, cookie, frames)
        time.sleep(1)  # let the server finish with the last connection
        grown = _rss(pid) - before

        assert psutil.Process(pid).is_running()
        assert grown < GROWTH_ALLOWED, f"the server grew by {grown / MiB:.0f} MiB; ends: {ends}"
        assert ends == [ends[0]] * len(frames) and ends[0].startswith("closed"), ends
        _session_cookie(url)  # the page is still served
        assert _run(_kernel_info, socket_url, cookie)["implementation"] == "solara"
        log = log_path.read_text()
    assert log.count("dashboard: refused a binary websocket frame") == len(frames), log[-3000:]
    assert "Exception in ASGI application" not in log and "MemoryError" not in log, log[-3000:]
