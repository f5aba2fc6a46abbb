"""`zerobuffer cleanup` removes exactly what dead processes left and refuses live buffers, also
a live reader whose lock file was deleted and a name whose C# lock is held. Exit codes: 0 when
everything asked for was done, 1 when anything was refused or failed."""

import os
import random

import pytest

from clitest import (EXIT_FAILED, EXIT_OK, LOCK_DIR, SHM, TAG, dead_pid, existing, listed, oieb_bytes, zb,
                     zb_json)


def entries_by_name(report):
    return {e["name"]: e for e in report["entries"]}


def kill_all(*procs):
    for p in procs:
        p.kill()


def test_stale_sweep_removes_exactly_the_stale_objects(env):
    # Python readers first: a starting Python reader deletes stale buffers that have lock files.
    live_py = env.name("livepy")
    env.py_reader(live_py)
    env.py_writer(live_py, 2)
    stale_py = env.name("stalepy")
    stale_py_reader = env.py_reader(stale_py)
    env.py_writer(stale_py, 2)  # stays alive: a live writer does not keep a buffer whose reader died
    live_cpp = env.name("livecpp")
    env.cpp_reader(live_cpp)
    stale_cpp = env.name("stalecpp")
    procs = [env.cpp_reader(stale_cpp), env.cpp_writer(stale_cpp, 2)]
    env.wait_written(stale_cpp, 2)
    env.wait_written(stale_py, 2)
    kill_all(stale_py_reader, *procs)
    orphan_sems = env.name("orphansems")
    env.make_semaphores(orphan_sems)
    orphan_lock = env.name("orphanlock")
    env.make_lock_file(orphan_lock)
    half = env.name("half")
    env.make_segment(half, b"")
    env.make_lock_file(half)
    foreign = env.name("foreign")
    env.make_segment(foreign, b"another program's data".ljust(256, b"\0"))

    names = [live_py, stale_py, live_cpp, stale_cpp, orphan_sems, orphan_lock, half, foreign]
    before = {n: existing(n) for n in names}
    assert len(before[stale_cpp]) == 4 and len(before[stale_py]) == 4
    assert len(before[orphan_sems]) == 2 and len(before[orphan_lock]) == 1
    removable = {stale_cpp, stale_py, orphan_sems, orphan_lock}

    for dry_run in (True, False):
        args = ["cleanup", "--stale", "--match", f"{TAG}*"] + (["--dry-run"] if dry_run else [])
        report = zb_json(*args)
        assert report["dry_run"] is dry_run and report["ok"] is True
        got = entries_by_name(report)
        assert set(got) == {live_py, stale_py, live_cpp, stale_cpp, orphan_sems, orphan_lock, half}  # foreign: not ours
        for n in removable:
            assert got[n]["outcome"] == "removed", got[n]
            assert sorted(got[n]["removed"]) == before[n], n
        assert got[stale_cpp]["state"] == "stale" and got[orphan_lock]["state"] == "orphaned"
        assert got[orphan_sems]["state"] == "orphaned"
        for n in (live_py, live_cpp):
            assert got[n]["outcome"] == "kept" and got[n]["state"] == "live" and got[n]["removed"] == []
        assert got[half]["outcome"] == "kept" and got[half]["state"] == "half-created"
        assert report["removed_objects"] == sum(len(before[n]) for n in removable)
        for n in names:
            want = before[n] if dry_run or n not in removable else []
            assert existing(n) == want, n
    assert os.path.exists(SHM / foreign)

    again = zb_json("cleanup", "--stale", "--match", f"{TAG}*")
    assert {e["name"] for e in again["entries"] if e["outcome"] == "removed"} == set()


def test_named_cleanup(env):
    live = env.name("live")
    env.cpp_reader(live)
    stale = env.name("stale")
    env.cpp_reader(stale).kill()
    missing = env.name("missing")
    live_objects = existing(live)

    report = zb_json("cleanup", stale, live, missing, expect=EXIT_FAILED)
    assert report["ok"] is False
    got = entries_by_name(report)
    assert [e["name"] for e in report["entries"]] == [stale, live, missing]  # in the order asked
    assert got[stale]["outcome"] == "removed" and got[stale]["state"] == "stale"
    assert got[live]["outcome"] == "refused" and got[live]["state"] == "live"
    assert "live" in got[live]["reason"] and got[live]["removed"] == []
    assert got[missing]["outcome"] == "nothing-to-do" and got[missing]["state"] == "absent"
    assert existing(stale) == [] and existing(live) == live_objects

    r = zb("cleanup", stale, missing)
    assert r.returncode == EXIT_OK, r.stdout + r.stderr  # nothing to do is done
    assert f"nothing       {stale}: nothing to remove" in r.stdout
    r = zb("cleanup", live)
    assert r.returncode == EXIT_FAILED
    assert f"REFUSED       {live}: '{live}' is live: reader pid" in r.stdout
    assert existing(live) == live_objects


def test_writer_gone_buffer_is_refused(env):
    name = env.name("writergone")
    env.cpp_reader(name)
    writer = env.py_writer(name, 1)
    env.wait_written(name, 1)
    writer.kill()
    report = zb_json("cleanup", name, expect=EXIT_FAILED)
    assert report["entries"][0]["state"] == "writer-gone" and report["entries"][0]["outcome"] == "refused"
    assert len(existing(name)) == 4


@pytest.mark.parametrize("rlang", ["cpp", "py"])
def test_live_reader_without_its_lock_file_is_refused(env, rlang):
    name = env.name(f"nolock{rlang}")
    reader = env.reader(rlang, name)
    env.writer(rlang, name, 2)
    env.wait_written(name, 2)
    (LOCK_DIR / f"{name}.lock").unlink()
    left = existing(name)
    assert len(left) == 3

    info = zb_json("inspect", name)
    assert info["state"] == "live" and info["lock_file"]["state"] == "absent"
    assert info["reader"]["pid"] == reader.pid and info["reader"]["state"] == "alive"

    report = zb_json("cleanup", name, expect=EXIT_FAILED)
    e = report["entries"][0]
    assert e["outcome"] == "refused" and e["state"] == "live" and e["removed"] == []
    assert f"reader pid {reader.pid}" in e["reason"]
    assert "lock file held" not in e["reason"]  # the lock cleanup itself took says nothing about the reader
    report = zb_json("cleanup", "--stale", "--match", name)
    assert report["entries"][0]["outcome"] == "kept"
    assert existing(name) == left  # and no lock file was made up on the way


HOLD_FLOCK = """
import fcntl, os, sys, time
path = sys.argv[1]
os.makedirs(os.path.dirname(path), exist_ok=True)
fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print('ready', flush=True)
time.sleep(120)
"""


def test_held_csharp_lock_counts_as_live(env, tmp_path):
    name = env.name("csharp")
    env.cpp_reader(name).kill()  # stale by every other evidence
    csharp_lock = tmp_path / "zerobuffer" / "locks" / f"{name}.lock"
    holder = env.helper(HOLD_FLOCK.replace("sys.argv[1]", repr(str(csharp_lock))))
    tmp = {"TMPDIR": str(tmp_path)}

    info = zb_json("inspect", name, env=tmp)
    assert info["state"] == "live" and info["reader"]["state"] == "dead"
    assert info["csharp_lock"] == {"path": str(csharp_lock), "state": "held", "holder_pid": holder.pid,
                                   "holder_process": info["csharp_lock"]["holder_process"]}
    assert "C# reader" in info["reason"]
    report = zb_json("cleanup", name, expect=EXIT_FAILED, env=tmp)
    assert report["entries"][0]["outcome"] == "refused"
    assert len(existing(name)) == 4

    holder.kill()
    holder.wait()
    report = zb_json("cleanup", name, env=tmp)
    assert report["entries"][0]["outcome"] == "removed" and existing(name) == []
    assert csharp_lock.exists()  # a C# reader's lock file is not ours to remove


def test_force_removes_half_created_and_foreign_named_segments(env):
    half = env.name("half")
    env.make_segment(half, bytes(4096))  # an OIEB never initialised
    env.make_semaphores(half)
    env.make_lock_file(half)
    foreign = env.name("foreign")
    env.make_segment(foreign, b"not ours".ljust(4096, b"x"))
    live = env.name("live")
    env.cpp_reader(live)

    for n, state in ((half, "half-created"), (foreign, "foreign")):
        report = zb_json("cleanup", n, expect=EXIT_FAILED)
        e = report["entries"][0]
        assert e["state"] == state and e["outcome"] == "refused" and "force" in e["reason"]
        assert os.path.exists(SHM / n)
    half_objects = existing(half)
    report = zb_json("cleanup", "--force", half, foreign)
    got = entries_by_name(report)
    assert sorted(got[half]["removed"]) == half_objects and got[half]["outcome"] == "removed"
    assert got[foreign]["removed"] == [f"/dev/shm/{foreign}"]
    assert existing(half) == [] and not os.path.exists(SHM / foreign)

    report = zb_json("cleanup", "--force", live, expect=EXIT_FAILED)
    assert report["entries"][0]["outcome"] == "refused" and len(existing(live)) == 4


def test_dry_run_of_a_named_stale_buffer(env):
    name = env.name("dry")
    env.cpp_reader(name).kill()
    before = existing(name)
    r = zb("cleanup", "--dry-run", name)
    assert r.returncode == EXIT_OK
    assert r.stdout.startswith(f"would remove  {name} (stale): ")
    assert "dry run: would remove 4 object(s) of 1 name(s)" in r.stdout
    assert existing(name) == before


def test_temporary_segments(env):
    n = random.randrange(10**8, 10**9)
    dead = f".zb-tmp-{dead_pid()}-{n}"
    alive = f".zb-tmp-{os.getpid()}-{n}"
    for f in (dead, alive):
        env.adopt_path(SHM / f)
        with open(SHM / f, "xb") as out:
            out.write(oieb_bytes(64, 1024) + bytes(64 + 1024))

    listing = zb_json("ls")
    entry = listed(listing, dead)
    assert entry is not None and entry in listing["leftovers"]
    assert entry["temporary"] is True and entry["state"] == "orphaned" and entry["reclaimable"] is True
    assert entry["reader"]["state"] == "dead" and entry["objects"][0]["kind"] == "temporary-segment"
    assert listed(listing, alive) is None  # its creator (this test) is alive
    info = zb_json("inspect", alive)
    assert info["state"] == "creating" and info["reader"]["pid"] == os.getpid()

    report = zb_json("cleanup", alive, expect=EXIT_FAILED)
    assert report["entries"][0]["outcome"] == "refused"
    report = zb_json("cleanup", "--stale", "--match", f".zb-tmp-*-{n}")
    assert [(e["name"], e["outcome"]) for e in report["entries"]] == [(dead, "removed")]
    assert not os.path.exists(SHM / dead) and os.path.exists(SHM / alive)
